package asff

import "strconv"

// The fast OCSF decoder: like fastFinding for ASFF, one strict pass that
// fills an ocsfFinding directly and validates everything it skips, with
// strings sharing the document's bytes. It declines (errFast) on anything
// unusual, and decodeOCSF then decodes with goccy/go-json and words errors
// with encoding/json.

// Keys read per object; a key matching one of them only ignoring case
// still sets that field, as with encoding/json.
var (
	ocsfTopKeys = []string{"activity_id", "activity_name", "class_uid", "severity", "severity_id", "status",
		"status_id", "time", "time_dt", "finding_info", "metadata", "cloud", "resources", "compliance",
		"vulnerabilities", "remediation", "comment"}
	ocsfInfoKeys = []string{"uid", "title", "desc", "src_url", "types", "analytic", "created_time",
		"created_time_dt", "modified_time", "modified_time_dt", "first_seen_time", "first_seen_time_dt",
		"last_seen_time", "last_seen_time_dt", "related_events"}
	ocsfUIDKeys        = []string{"uid"}
	ocsfRelatedKeys    = []string{"uid", "product"}
	ocsfMetadataKeys   = []string{"version", "product"}
	ocsfProductKeys    = []string{"name", "uid", "vendor_name"}
	ocsfCloudKeys      = []string{"account", "region", "cloud_partition"}
	ocsfResourceKeys   = []string{"type", "uid", "uid_alt", "name", "region", "cloud_partition", "owner", "tags", "data"}
	ocsfOwnerKeys      = []string{"account"}
	ocsfTagKeys        = []string{"name", "value"}
	ocsfComplianceKeys = []string{"control", "status", "status_id", "standards"}
	ocsfVulnKeys       = []string{"cve", "severity"}
	ocsfRemedyKeys     = []string{"desc", "references"}
)

// fastOCSF decodes the OCSF finding object at doc[i] into o (which must be
// zero) and returns the index just past it.
func fastOCSF(doc []byte, i int, o *ocsfFinding) (int, error) {
	end, err := object(doc, i, ocsfTopKeys, func(k []byte, s int) (int, error) {
		return o.field(doc, k, s)
	})
	if err != nil || doc[i] != '{' {
		return 0, errFast
	}
	return end, nil
}

func (o *ocsfFinding) field(b, k []byte, s int) (int, error) {
	switch string(k) {
	case "activity_id":
		return intValue(b, s, &o.ActivityID)
	case "activity_name":
		return stringValue(b, s, &o.ActivityName)
	case "class_uid":
		return intValue(b, s, &o.ClassUID)
	case "severity":
		return stringValue(b, s, &o.Severity)
	case "severity_id":
		return intValue(b, s, &o.SeverityID)
	case "status":
		return stringValue(b, s, &o.Status)
	case "status_id":
		return intValue(b, s, &o.StatusID)
	case "time":
		return int64Value(b, s, &o.Time)
	case "time_dt":
		return stringValue(b, s, &o.TimeDt)
	case "finding_info":
		return o.FindingInfo.parse(b, s)
	case "metadata":
		return object(b, s, ocsfMetadataKeys, func(k []byte, s int) (int, error) {
			switch string(k) {
			case "version":
				return stringValue(b, s, &o.Metadata.Version)
			case "product":
				p := &o.Metadata.Product
				return stringsObject(b, s, ocsfProductKeys, func(k []byte) *string {
					return pick(k, "name", &p.Name, "uid", &p.UID, "vendor_name", &p.VendorName)
				})
			}
			return -1, nil
		})
	case "cloud":
		c := &o.Cloud
		return object(b, s, ocsfCloudKeys, func(k []byte, s int) (int, error) {
			switch string(k) {
			case "account":
				return uidObject(b, s, &c.Account)
			case "region":
				return stringValue(b, s, &c.Region)
			case "cloud_partition":
				return stringValue(b, s, &c.CloudPartition)
			}
			return -1, nil
		})
	case "resources":
		return list(b, s, &o.Resources, (*ocsfResource).parse)
	case "compliance":
		if b[s] == 'n' {
			return literal(b, s, "null")
		}
		o.Compliance = new(ocsfCompliance)
		return o.Compliance.parse(b, s)
	case "vulnerabilities":
		return list(b, s, &o.Vulnerabilities, (*ocsfVuln).parse)
	case "remediation":
		r := &o.Remediation
		return object(b, s, ocsfRemedyKeys, func(k []byte, s int) (int, error) {
			switch string(k) {
			case "desc":
				return stringValue(b, s, &r.Desc)
			case "references":
				return stringList(b, s, &r.References)
			}
			return -1, nil
		})
	case "comment":
		return stringValue(b, s, &o.Comment)
	}
	return -1, nil
}

func (fi *ocsfFindingInfo) parse(b []byte, vs int) (int, error) {
	return object(b, vs, ocsfInfoKeys, func(k []byte, s int) (int, error) {
		if dst := pick(k, "uid", &fi.UID, "title", &fi.Title, "desc", &fi.Desc, "src_url", &fi.SrcURL,
			"created_time_dt", &fi.CreatedTimeDt, "modified_time_dt", &fi.ModifiedTimeDt,
			"first_seen_time_dt", &fi.FirstSeenTimeDt, "last_seen_time_dt", &fi.LastSeenTimeDt); dst != nil {
			return stringValue(b, s, dst)
		}
		switch string(k) {
		case "types":
			return stringList(b, s, &fi.Types)
		case "analytic":
			return uidObject(b, s, &fi.Analytic)
		case "created_time":
			return int64Value(b, s, &fi.CreatedTime)
		case "modified_time":
			return int64Value(b, s, &fi.ModifiedTime)
		case "first_seen_time":
			return int64Value(b, s, &fi.FirstSeenTime)
		case "last_seen_time":
			return int64Value(b, s, &fi.LastSeenTime)
		case "related_events":
			return list(b, s, &fi.RelatedEvents, func(e *ocsfRelatedEvent, b []byte, s int) (int, error) {
				return object(b, s, ocsfRelatedKeys, func(k []byte, s int) (int, error) {
					switch string(k) {
					case "uid":
						return stringValue(b, s, &e.UID)
					case "product":
						return uidObject(b, s, &e.Product)
					}
					return -1, nil
				})
			})
		}
		return -1, nil
	})
}

func (r *ocsfResource) parse(b []byte, vs int) (int, error) {
	return object(b, vs, ocsfResourceKeys, func(k []byte, s int) (int, error) {
		if dst := pick(k, "type", &r.Type, "uid", &r.UID, "uid_alt", &r.UIDAlt, "name", &r.Name,
			"region", &r.Region, "cloud_partition", &r.CloudPartition); dst != nil {
			return stringValue(b, s, dst)
		}
		switch string(k) {
		case "owner":
			return object(b, s, ocsfOwnerKeys, func(k []byte, s int) (int, error) {
				if string(k) == "account" {
					return uidObject(b, s, &r.Owner.Account)
				}
				return -1, nil
			})
		case "tags":
			return list(b, s, &r.Tags, func(t *ocsfTag, b []byte, s int) (int, error) {
				return stringsObject(b, s, ocsfTagKeys, func(k []byte) *string {
					return pick(k, "name", &t.Name, "value", &t.Value)
				})
			})
		case "data":
			end, err := skipStrict(b, s, 2)
			if err != nil {
				return 0, err
			}
			r.Data = b[s:end:end]
			return end, nil
		}
		return -1, nil
	})
}

func (c *ocsfCompliance) parse(b []byte, vs int) (int, error) {
	return object(b, vs, ocsfComplianceKeys, func(k []byte, s int) (int, error) {
		switch string(k) {
		case "control":
			return stringValue(b, s, &c.Control)
		case "status":
			return stringValue(b, s, &c.Status)
		case "status_id":
			return intValue(b, s, &c.StatusID)
		case "standards":
			return stringList(b, s, &c.Standards)
		}
		return -1, nil
	})
}

func (v *ocsfVuln) parse(b []byte, vs int) (int, error) {
	return object(b, vs, ocsfVulnKeys, func(k []byte, s int) (int, error) {
		switch string(k) {
		case "cve":
			return uidObject(b, s, &v.CVE)
		case "severity":
			return stringValue(b, s, &v.Severity)
		}
		return -1, nil
	})
}

// uidObject reads an object's "uid" string.
func uidObject(b []byte, vs int, dst *ocsfUID) (int, error) {
	return stringsObject(b, vs, ocsfUIDKeys, func(k []byte) *string {
		return pick(k, "uid", &dst.UID)
	})
}

// pick returns the destination paired with key in pairs (name, *string,
// name, *string, ...), or nil.
func pick(key []byte, pairs ...any) *string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if string(key) == pairs[i].(string) {
			return pairs[i+1].(*string)
		}
	}
	return nil
}

// int64Value decodes the integer (or null, leaving dst alone) at b[vs].
func int64Value(b []byte, vs int, dst *int64) (int, error) {
	if b[vs] == 'n' {
		return literal(b, vs, "null")
	}
	end, err := numberEnd(b, vs)
	if err != nil {
		return 0, errFast
	}
	n, err := strconv.ParseInt(string(b[vs:end]), 10, 64)
	if err != nil {
		return 0, errFast // a fraction or an exponent: the slow path words it
	}
	*dst = n
	return end, nil
}

func intValue(b []byte, vs int, dst *int) (int, error) {
	var n int64
	end, err := int64Value(b, vs, &n)
	if err == nil && b[vs] != 'n' {
		*dst = int(n)
	}
	return end, err
}
