package asff

import "bytes"

// The fast finding decoder: one strict pass over the object that fills a
// wireFinding directly, validating everything it skips, with strings
// sharing the document's bytes (documents are never written after they
// are scanned, and Raw keeps the same bytes alive anyway). It declines
// (errFast) on anything unusual - invalid JSON, a value of an unexpected
// type - and the caller
// then decodes with encoding/json, which handles those cases and names
// errors precisely. The differential tests hold the two paths equal.

// Keys the decoder reads, per object. A key matching one of them only
// ignoring case sets that field, as with encoding/json.
var (
	findingKeys = []string{"SchemaVersion", "Id", "ProductArn", "ProductName", "CompanyName", "Region",
		"GeneratorId", "AwsAccountId", "Types", "FirstObservedAt", "LastObservedAt", "CreatedAt", "UpdatedAt",
		"Severity", "Title", "Description", "SourceUrl", "Remediation", "ProductFields", "UserDefinedFields",
		"Resources", "Compliance", "RecordState", "Workflow", "WorkflowState", "Vulnerabilities", "RelatedFindings",
		"AwsAccountName", "VerificationState", "Sample", "Confidence", "Criticality", "FindingProviderFields",
		"Malware", "Network", "Note", "Process", "ThreatIntelIndicators"}
	recommendationKeys = []string{"Recommendation"}
	textURLKeys        = []string{"Text", "Url"}
	resourceKeys       = []string{"Type", "Id", "Partition", "Region", "Tags", "Details", "ApplicationArn", "ApplicationName"}
	complianceKeys     = []string{"Status", "SecurityControlId", "AssociatedStandards", "SecurityControlParameters"}
	statusKeys         = []string{"Status"}
	vulnerabilityKeys  = []string{"Id", "Vendor", "FixAvailable", "ExploitAvailable"}
	vendorKeys         = []string{"VendorSeverity"}
	relatedKeys        = []string{"ProductArn", "Id"}
)

// fastFinding decodes the finding object at doc[i] into w (which must be
// zero) and returns the index just past it.
func fastFinding(doc []byte, i int, w *wireFinding) (int, error) {
	end, err := objectStrict(doc, i, func(key []byte, vs int) (int, error) {
		return w.field(doc, key, vs)
	})
	if err != nil {
		return 0, errFast
	}
	return end, nil
}

// field decodes the top-level member key whose value starts at b[vs].
func (w *wireFinding) field(b, key []byte, vs int) (int, error) {
	if dst := w.stringField(key); dst != nil {
		return stringValue(b, vs, dst)
	}
	switch string(key) {
	case "Types":
		return stringList(b, vs, &w.Types)
	case "Severity":
		return unmarshalValidated(b, vs, w.Severity.UnmarshalJSON)
	case "ProductFields":
		return unmarshalValidated(b, vs, w.ProductFields.UnmarshalJSON)
	case "UserDefinedFields":
		return unmarshalValidated(b, vs, w.UserDefinedFields.UnmarshalJSON)
	case "Remediation":
		return object(b, vs, recommendationKeys, func(k []byte, s int) (int, error) {
			if string(k) != "Recommendation" {
				return -1, nil
			}
			r := &w.Remediation.Recommendation
			return stringsObject(b, s, textURLKeys, func(k []byte) *string {
				switch string(k) {
				case "Text":
					return &r.Text
				case "Url":
					return &r.Url
				}
				return nil
			})
		})
	case "Compliance":
		return w.Compliance.parse(b, vs)
	case "Workflow":
		return stringsObject(b, vs, statusKeys, func(k []byte) *string {
			if string(k) == "Status" {
				return &w.Workflow.Status
			}
			return nil
		})
	case "Resources":
		return list(b, vs, &w.Resources, (*wireResource).parse)
	case "Vulnerabilities":
		return list(b, vs, &w.Vulnerabilities, (*wireVulnerability).parse)
	case "RelatedFindings":
		return list(b, vs, &w.RelatedFindings, (*wireRelated).parse)
	}
	if unmarshal := w.lenientField(key); unmarshal != nil {
		return unmarshalValidated(b, vs, unmarshal)
	}
	if name := foldedName(key, findingKeys); name != "" {
		return w.field(b, []byte(name), vs) // e.g. "updatedAt" in 2019 custom actions
	}
	return skipStrict(b, vs, 1)
}

// stringField returns the string field named key, or nil.
func (w *wireFinding) stringField(key []byte) *string {
	switch string(key) {
	case "SchemaVersion":
		return &w.SchemaVersion
	case "Id":
		return &w.Id
	case "ProductArn":
		return &w.ProductArn
	case "ProductName":
		return &w.ProductName
	case "CompanyName":
		return &w.CompanyName
	case "Region":
		return &w.Region
	case "GeneratorId":
		return &w.GeneratorId
	case "AwsAccountId":
		return &w.AwsAccountId
	case "FirstObservedAt":
		return &w.FirstObservedAt
	case "LastObservedAt":
		return &w.LastObservedAt
	case "CreatedAt":
		return &w.CreatedAt
	case "UpdatedAt":
		return &w.UpdatedAt
	case "Title":
		return &w.Title
	case "Description":
		return &w.Description
	case "SourceUrl":
		return &w.SourceUrl
	case "RecordState":
		return &w.RecordState
	case "WorkflowState":
		return &w.WorkflowState
	}
	return nil
}

// lenientField returns the decoder of the filter-only member key, or nil.
func (w *wireFinding) lenientField(key []byte) func([]byte) error {
	switch string(key) {
	case "AwsAccountName":
		return w.AwsAccountName.UnmarshalJSON
	case "VerificationState":
		return w.VerificationState.UnmarshalJSON
	case "Sample":
		return w.Sample.UnmarshalJSON
	case "Confidence":
		return w.Confidence.UnmarshalJSON
	case "Criticality":
		return w.Criticality.UnmarshalJSON
	case "FindingProviderFields":
		return ensure(&w.FindingProviderFields).UnmarshalJSON
	case "Malware":
		return w.Malware.UnmarshalJSON
	case "Network":
		return ensure(&w.Network).UnmarshalJSON
	case "Note":
		return ensure(&w.Note).UnmarshalJSON
	case "Process":
		return ensure(&w.Process).UnmarshalJSON
	case "ThreatIntelIndicators":
		return w.ThreatIntelIndicators.UnmarshalJSON
	}
	return nil
}

func (c *wireCompliance) parse(b []byte, vs int) (int, error) {
	return object(b, vs, complianceKeys, func(k []byte, s int) (int, error) {
		switch string(k) {
		case "Status":
			return stringValue(b, s, &c.Status)
		case "SecurityControlId":
			return stringValue(b, s, &c.SecurityControlId)
		case "AssociatedStandards":
			return unmarshalValidated(b, s, c.AssociatedStandards.UnmarshalJSON)
		case "SecurityControlParameters":
			return unmarshalValidated(b, s, c.SecurityControlParameters.UnmarshalJSON)
		}
		return -1, nil
	})
}

func (r *wireResource) parse(b []byte, vs int) (int, error) {
	return object(b, vs, resourceKeys, func(k []byte, s int) (int, error) {
		switch string(k) {
		case "Type":
			return stringValue(b, s, &r.Type)
		case "Id":
			return stringValue(b, s, &r.Id)
		case "Partition":
			return stringValue(b, s, &r.Partition)
		case "Region":
			return stringValue(b, s, &r.Region)
		case "Tags":
			return unmarshalValidated(b, s, r.Tags.UnmarshalJSON)
		case "Details":
			return r.Details.parse(b, s)
		case "ApplicationArn":
			return unmarshalValidated(b, s, r.ApplicationArn.UnmarshalJSON)
		case "ApplicationName":
			return unmarshalValidated(b, s, r.ApplicationName.UnmarshalJSON)
		}
		return -1, nil
	})
}

// parse reads the Details value at b[vs] in one pass: the members filters
// read are decoded, the others validated and skipped.
func (d *wireDetailsJSON) parse(b []byte, vs int) (int, error) {
	var fields *wireDetails
	end, err := object(b, vs, detailKeys, func(k []byte, s int) (int, error) {
		if !isDetailKey(k) {
			return -1, nil
		}
		ve, err := skipStrict(b, s, 3)
		if err != nil {
			return 0, err
		}
		ensure(&fields).decode(string(k), b[s:ve])
		return ve, nil
	})
	if err != nil {
		return 0, err
	}
	d.Raw, d.Fields = b[vs:end:end], fields
	return end, nil
}

// isDetailKey reports whether k is one of detailKeys, exactly.
func isDetailKey(k []byte) bool {
	for _, n := range detailKeys {
		if string(k) == n {
			return true
		}
	}
	return false
}

func (v *wireVulnerability) parse(b []byte, vs int) (int, error) {
	return object(b, vs, vulnerabilityKeys, func(k []byte, s int) (int, error) {
		switch string(k) {
		case "Id":
			return stringValue(b, s, &v.Id)
		case "Vendor":
			return stringsObject(b, s, vendorKeys, func(k []byte) *string {
				if string(k) == "VendorSeverity" {
					return &v.Vendor.VendorSeverity
				}
				return nil
			})
		case "FixAvailable":
			return unmarshalValidated(b, s, v.FixAvailable.UnmarshalJSON)
		case "ExploitAvailable":
			return unmarshalValidated(b, s, v.ExploitAvailable.UnmarshalJSON)
		}
		return -1, nil
	})
}

func (r *wireRelated) parse(b []byte, vs int) (int, error) {
	return stringsObject(b, vs, relatedKeys, func(k []byte) *string {
		switch string(k) {
		case "ProductArn":
			return &r.ProductArn
		case "Id":
			return &r.Id
		}
		return nil
	})
}

// object walks the object (or null) at b[vs]; fn returns -1 for keys it
// does not read, which are then validated and skipped.
func object(b []byte, vs int, known []string, fn func(key []byte, s int) (int, error)) (int, error) {
	if b[vs] == 'n' {
		return literal(b, vs, "null")
	}
	if b[vs] != '{' {
		return 0, errFast
	}
	return objectStrict(b, vs, func(key []byte, s int) (int, error) {
		end, err := fn(key, s)
		if err != nil || end >= 0 {
			return end, err
		}
		if name := foldedName(key, known); name != "" {
			if end, err = fn([]byte(name), s); err != nil || end >= 0 {
				return end, err
			}
		}
		return skipStrict(b, s, 2)
	})
}

// stringsObject reads an object whose interesting members are strings;
// pick returns where a key's value goes (nil: skip it).
func stringsObject(b []byte, vs int, known []string, pick func(key []byte) *string) (int, error) {
	return object(b, vs, known, func(k []byte, s int) (int, error) {
		if dst := pick(k); dst != nil {
			return stringValue(b, s, dst)
		}
		return -1, nil
	})
}

// list decodes the array (or null) at b[vs] with parse for each element.
func list[T any](b []byte, vs int, dst *[]T, parse func(*T, []byte, int) (int, error)) (int, error) {
	if b[vs] == 'n' {
		*dst = nil
		return literal(b, vs, "null")
	}
	if b[vs] != '[' {
		return 0, errFast
	}
	out := (*dst)[:0]
	if out == nil {
		out = []T{} // encoding/json decodes [] as an empty, non-nil slice
	}
	end, err := arrayStrict(b, vs, func(s int) (int, error) {
		out = append(out, *new(T))
		return parse(&out[len(out)-1], b, s)
	})
	*dst = out
	return end, err
}

// stringList decodes an array of strings (or null).
func stringList(b []byte, vs int, dst *[]string) (int, error) {
	return list(b, vs, dst, func(s *string, b []byte, i int) (int, error) {
		return stringValue(b, i, s)
	})
}

// stringValue decodes the string (or null, leaving dst alone) at b[vs].
func stringValue(b []byte, vs int, dst *string) (int, error) {
	switch b[vs] {
	case '"':
		end, err := strictStringEnd(b, vs)
		if err != nil {
			return 0, err
		}
		s, err := unquote(b[vs+1 : end-1])
		if err != nil {
			return 0, errFast
		}
		*dst = s
		return end, nil
	case 'n':
		return literal(b, vs, "null")
	}
	return 0, errFast
}

// unmarshalValidated validates the value at b[vs] and hands it to one of the
// wire types' own decoders.
func unmarshalValidated(b []byte, vs int, unmarshal func([]byte) error) (int, error) {
	end, err := skipStrict(b, vs, 1)
	if err != nil {
		return 0, err
	}
	if unmarshal(b[vs:end]) != nil {
		return 0, errFast
	}
	return end, nil
}

// foldedName returns the name among names that key matches ignoring case,
// or "": like encoding/json, a key in other case still sets the field.
func foldedName(key []byte, names []string) string {
	for _, n := range names {
		if len(n) == len(key) && bytes.EqualFold(key, []byte(n)) {
			return n
		}
	}
	return ""
}
