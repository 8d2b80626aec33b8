package correlate

import "sort"

// place resolves the account, region and partition of the joined resource
// from what its contributing findings say (the first, by key, that names
// both account and region), falling back to res and then the options.
// The choice depends only on the contributing set, so re-evaluations give
// the same finding.
func (e *Engine) place(res Ref, contrib []*indexed) placement {
	best := res
	for _, x := range contrib {
		if x.Resource.Key() != res.Key() {
			continue
		}
		if x.Resource.Region != "" && x.Resource.Account != "" {
			best = x.Resource
			break
		}
		if best.Region == "" || best.Account == "" {
			best.Region = firstNonEmpty(best.Region, x.Resource.Region)
			best.Account = firstNonEmpty(best.Account, x.Resource.Account)
			best.Partition = firstNonEmpty(best.Partition, x.Resource.Partition)
		}
	}
	best.Type, best.Name = res.Type, res.Name
	pl := placement{
		partition: firstNonEmpty(best.Partition, e.opt.Partition),
		region:    firstNonEmpty(best.Region, e.opt.Region),
		account:   firstNonEmpty(best.Account, e.opt.Account),
	}
	best.Partition, best.Region, best.Account = pl.partition, pl.region, pl.account
	pl.res = best
	pl.importer = firstNonEmpty(e.opt.Account, pl.account)
	return pl
}

// templateData is what the rule's templates see for ev.
func templateData(r *Rule, pl placement, ev evaluation) TemplateData {
	d := TemplateData{
		Rule: r.Name,
		Resource: ResourceData{Type: pl.res.Type, ID: pl.res.ARN(), Name: pl.res.Name,
			Account: pl.account, Region: pl.region},
		Conditions: map[string][]FindingData{},
		Distinct:   map[string][]string{},
	}
	conds := map[string][]string{}
	for _, c := range r.Conditions {
		for _, x := range ev.byCond[c.Name] {
			conds[x.key()] = append(conds[x.key()], c.Name)
		}
	}
	byKey := map[string]FindingData{}
	for _, x := range ev.contrib {
		fd := FindingData{ID: x.ID, ProductArn: x.ProductArn, ProductName: x.ProductName, Title: x.Title,
			Types: x.Types, Severity: x.Severity, LastObservedAt: x.Seen, Conditions: conds[x.key()]}
		sort.Strings(fd.Conditions)
		byKey[x.key()] = fd
		d.Findings = append(d.Findings, fd)
	}
	for _, c := range r.Conditions {
		d.Conditions[c.Name] = []FindingData{}
		for _, x := range ev.byCond[c.Name] {
			if fd, ok := byKey[x.key()]; ok {
				d.Conditions[c.Name] = append(d.Conditions[c.Name], fd)
			}
		}
		d.Distinct[c.Name] = ev.distinct[c.Name]
		if d.Distinct[c.Name] == nil {
			d.Distinct[c.Name] = []string{}
		}
	}
	return d
}
