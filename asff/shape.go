package asff

import (
	"errors"
	"fmt"
	"slices"
)

// shape is what a top-level JSON document holds.
type shape int

const (
	shapeFinding     shape = iota // one ASFF finding
	shapeEnvelope                 // EventBridge event with detail.findings
	shapeGetFindings              // GetFindings response {"Findings": [...]}
	shapeDetail                   // an EventBridge event's detail alone {"findings": [...]}
	shapeWrapper                  // recorded boto3 response {"status_code":..., "data": {...}}
	shapeBatchUpdate              // BatchUpdateFindings request body
	shapeOCSF                     // one OCSF finding
	shapeGuardDuty                // GuardDuty's own finding (an EventBridge event's detail)
)

// maxNesting bounds how deep arrays of containers may nest.
const maxNesting = 8

// decodeDocument decodes every finding held by the JSON value doc (an
// object of any supported shape, or an array of them) and appends one
// Result per finding or problem to out, in document order. doc is owned by
// the caller and aliased by the findings' Raw.
func decodeDocument(doc []byte, pos position, out []Result) []Result {
	return decodeValue(doc, skipSpace(doc, 0), pos, 0, out)
}

// decodeValue decodes the value at doc[i].
func decodeValue(doc []byte, i int, pos position, depth int, out []Result) []Result {
	if depth > maxNesting {
		return append(out, Result{Err: pos.errorAt(doc, i, ErrNotFinding, "arrays nested too deeply")})
	}
	if i < len(doc) && doc[i] == '[' {
		_, err := elements(doc, i, func(vs int) (int, error) {
			ve, err := valueEnd(doc, vs)
			if err == nil {
				out = decodeValue(doc[:ve], vs, pos, depth+1, out)
			}
			return ve, err
		})
		return appendWalkError(out, doc, pos, err)
	}
	if i >= len(doc) || doc[i] != '{' {
		return append(out, Result{Err: pos.errorAt(doc, i, ErrNotFinding,
			"expected a JSON object or array, found "+describe(doc, i))})
	}
	sh, err := classify(doc, i)
	if err != nil {
		return appendWalkError(out, doc, pos, err)
	}
	switch sh {
	case shapeEnvelope:
		return decodeEnvelope(doc, i, pos, out)
	case shapeGetFindings:
		return decodeFindingsList(doc, i, pos, out, "Findings")
	case shapeDetail:
		return decodeFindingsList(doc, i, pos, out, "findings")
	case shapeWrapper:
		return decodeWrapper(doc, i, pos, depth, out)
	case shapeBatchUpdate:
		return append(out, Result{Err: pos.errorAt(doc, i, ErrNotFinding,
			"BatchUpdateFindings request body (FindingIdentifiers), not a finding")})
	case shapeOCSF:
		return appendOCSF(out, doc, i, len(doc), pos)
	case shapeGuardDuty:
		return appendGuardDuty(out, doc, i, len(doc), pos)
	}
	return appendFinding(out, doc, i, len(doc), pos)
}

// classify looks at the object's keys until one decides its shape; an
// object with no deciding key is taken for a finding.
func classify(doc []byte, i int) (shape, error) {
	sh := shapeFinding
	_, err := members(doc, i, false, func(key []byte, vs int) (int, error) {
		s, ok := keyShape(key)
		if !ok {
			return -1, nil
		}
		sh = s
		return 0, errDecided
	})
	if errors.Is(err, errDecided) {
		err = nil
	}
	return sh, err
}

// keyShape reports the shape an object with the member key has, if that
// key decides it.
func keyShape(key []byte) (shape, bool) {
	switch string(key) {
	case "SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId":
		return shapeFinding, true
	case "detail-type", "detail":
		return shapeEnvelope, true
	case "Findings":
		return shapeGetFindings, true
	case "findings":
		return shapeDetail, true
	case "data":
		return shapeWrapper, true
	case "FindingIdentifiers":
		return shapeBatchUpdate, true
	case "class_uid", "finding_info", "metadata", "activity_id", "activity_name", "category_uid",
		"type_uid", "severity_id", "status_id", "class_name", "type_name", "category_name":
		return shapeOCSF, true // keys only an OCSF finding has
	case "accountId", "arn":
		return shapeGuardDuty, true // keys of GuardDuty's own findings (ASFF's are capitalised)
	}
	return 0, false
}

// errDecided stops classify's walk early.
var errDecided = errors.New("shape decided")

// findingsDetailTypes are the EventBridge detail-types whose events carry
// findings in detail.findings.
var findingsDetailTypes = []string{
	"Security Hub Findings - Imported",
	"Security Hub Findings - Custom Action",
	"Findings Imported V2",
}

// decodeEnvelope decodes every finding in an EventBridge event's
// detail.findings ("Security Hub Findings - Imported" or "- Custom Action").
// An event of another detail-type without findings ("Security Hub Insight
// Results") is reported as ErrNoFindings, to be skipped.
func decodeEnvelope(doc []byte, i int, pos position, out []Result) []Result {
	detailType, found := "", false
	_, err := members(doc, i, true, func(key []byte, vs int) (int, error) {
		switch string(key) {
		case "detail-type":
			end, err := validValue(doc, vs)
			if err == nil && doc[vs] == '"' {
				detailType = string(doc[vs+1 : end-1])
			}
			return end, err
		case "detail":
			if doc[vs] != '{' {
				return -1, nil
			}
			if sh, _ := classify(doc, vs); detailType == DetailTypeGuardDuty || sh == shapeGuardDuty {
				end, err := valueEnd(doc, vs)
				if err == nil {
					found = true
					out = appendGuardDuty(out, doc, vs, end, pos)
				}
				return end, err
			}
			return members(doc, vs, true, func(key []byte, fs int) (int, error) {
				if string(key) != "findings" || doc[fs] != '[' {
					return -1, nil
				}
				found = true
				return elements(doc, fs, func(s int) (end int, err error) {
					out, end, err = appendFindingAt(out, doc, s, pos)
					return end, err
				})
			})
		}
		return -1, nil
	})
	if err == nil && !found {
		reason, cause := fmt.Sprintf("event (detail-type %q) has no detail.findings array", detailType), ErrNotFinding
		if !slices.Contains(findingsDetailTypes, detailType) {
			reason, cause = fmt.Sprintf("event of detail-type %q carries no findings; skipped", detailType), ErrNoFindings
		}
		err = &walkError{Pos: i, Reason: reason, Cause: cause}
	}
	return appendWalkError(out, doc, pos, err)
}

// appendGuardDuty decodes doc[s:e], a GuardDuty finding, as one finding.
func appendGuardDuty(out []Result, doc []byte, s, e int, pos position) []Result {
	f, err := decodeGuardDuty(doc[s:e], pos.at(doc, s))
	if err != nil {
		return append(out, Result{Err: err})
	}
	return append(out, Result{Finding: f})
}

// decodeFindingsList decodes the array under key in the object at doc[i].
func decodeFindingsList(doc []byte, i int, pos position, out []Result, key string) []Result {
	_, err := members(doc, i, true, func(k []byte, vs int) (int, error) {
		if string(k) != key || doc[vs] != '[' {
			return -1, nil
		}
		return elements(doc, vs, func(s int) (end int, err error) {
			out, end, err = appendFindingAt(out, doc, s, pos)
			return end, err
		})
	})
	return appendWalkError(out, doc, pos, err)
}

// decodeWrapper unwraps {"status_code": 200, "data": {...}}.
func decodeWrapper(doc []byte, i int, pos position, depth int, out []Result) []Result {
	_, err := members(doc, i, true, func(k []byte, vs int) (int, error) {
		if string(k) != "data" {
			return -1, nil
		}
		end, err := valueEnd(doc, vs)
		if err != nil {
			return 0, err
		}
		out = decodeValue(doc[:end], vs, pos, depth+1, out)
		return end, nil
	})
	return appendWalkError(out, doc, pos, err)
}

// appendFinding decodes doc[s:e] as one finding.
func appendFinding(out []Result, doc []byte, s, e int, pos position) []Result {
	f, err := decodeFinding(doc[s:e], pos.at(doc, s))
	if err != nil {
		return append(out, Result{Err: err})
	}
	return append(out, Result{Finding: f})
}

// appendOCSF decodes doc[s:e] as one OCSF finding.
func appendOCSF(out []Result, doc []byte, s, e int, pos position) []Result {
	f, err := decodeOCSF(doc, s, s+trimRightSpace(doc[s:e]), pos)
	if err != nil {
		return append(out, Result{Err: err})
	}
	return append(out, Result{Finding: f})
}

// appendWalkError appends err (a *walkError from the container walk) as a
// DecodeError, or nothing when err is nil.
func appendWalkError(out []Result, doc []byte, pos position, err error) []Result {
	if err == nil {
		return out
	}
	var we *walkError
	if errors.As(err, &we) {
		cause := we.Cause
		if cause == nil {
			cause = ErrSyntax
		}
		return append(out, Result{Err: pos.errorAt(doc, we.Pos, cause, we.Reason)})
	}
	return append(out, Result{Err: pos.errorAt(doc, 0, err, err.Error())})
}

// describe names the JSON value starting at doc[i] for error messages.
func describe(doc []byte, i int) string {
	if i >= len(doc) {
		return "nothing"
	}
	switch c := doc[i]; {
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	default:
		return "character " + quoteChar(c)
	}
}
