package shtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Limits the server enforces, as documented for Security Hub (6 MB read
// strictly as 6,000,000 bytes).
const (
	maxImportFindings = 100
	maxFindingBytes   = 240 * 1024
	maxImportBytes    = 6_000_000
	maxPageSize       = 100
	maxUpdateFindings = 100
	tokenPrefix       = "shtest-offset-"
)

// getFindingsRequest is the GetFindings request body.
type getFindingsRequest struct {
	Filters      json.RawMessage
	SortCriteria []sortCriterion
	MaxResults   int
	NextToken    string
}

// getFindings answers one page of the findings matching the filters.
func (s *Server) getFindings(body []byte) (any, json.RawMessage, error) {
	var req getFindingsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("GetFindings request: %w", err)
	}
	if req.MaxResults == 0 {
		req.MaxResults = maxPageSize
	}
	if req.MaxResults < 1 || req.MaxResults > maxPageSize {
		return nil, req.Filters, fmt.Errorf("MaxResults: must be between 1 and %d (got %d)", maxPageSize, req.MaxResults)
	}
	offset := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(req.NextToken, tokenPrefix))
		if err != nil || !strings.HasPrefix(req.NextToken, tokenPrefix) || n < 0 {
			return nil, req.Filters, fmt.Errorf("NextToken: invalid token %q", req.NextToken)
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	matchers, err := compileFilters(req.Filters, s.now())
	if err != nil {
		return nil, req.Filters, err
	}
	var matched []*finding
	for _, f := range s.findings {
		if all(matchers, f) {
			matched = append(matched, f)
		}
	}
	if err := sortFindings(matched, req.SortCriteria); err != nil {
		return nil, req.Filters, err
	}
	end := min(offset+req.MaxResults, len(matched))
	page := []json.RawMessage{}
	for _, f := range matched[min(offset, end):end] {
		page = append(page, f.json())
	}
	resp := struct {
		Findings  []json.RawMessage
		NextToken *string `json:",omitempty"`
	}{Findings: page}
	if end < len(matched) {
		next := tokenPrefix + strconv.Itoa(end)
		resp.NextToken = &next
	}
	return resp, req.Filters, nil
}

func all(ms []matcher, f *finding) bool {
	for _, m := range ms {
		if !m(f) {
			return false
		}
	}
	return true
}

// importFailure is one FailedFindings entry.
type importFailure struct {
	Id           string
	ErrorCode    string
	ErrorMessage string
}

// batchImport stores the findings of one BatchImportFindings request.
func (s *Server) batchImport(body []byte) (any, int, error) {
	if len(body) > maxImportBytes {
		return nil, 0, fmt.Errorf("request body is %d bytes; at most %d allowed", len(body), maxImportBytes)
	}
	var req struct{ Findings []json.RawMessage }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, 0, fmt.Errorf("BatchImportFindings request: %w", err)
	}
	n := len(req.Findings)
	if n == 0 || n > maxImportFindings {
		return nil, n, fmt.Errorf("Findings: must hold 1 to %d findings (got %d)", maxImportFindings, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	failed := []importFailure{}
	for _, raw := range req.Findings {
		if fail := s.importOne(raw); fail != nil {
			failed = append(failed, *fail)
		}
	}
	return struct {
		FailedCount    int
		SuccessCount   int
		FailedFindings []importFailure
	}{len(failed), n - len(failed), failed}, n, nil
}

// importOne validates and stores one finding. The caller holds s.mu.
func (s *Server) importOne(raw json.RawMessage) *importFailure {
	var probe struct{ Id string }
	_ = json.Unmarshal(raw, &probe)
	if fault, ok := s.takeItemFault(BatchImportFindings, probe.Id); ok {
		return &importFailure{probe.Id, fault.code, fault.message}
	}
	if len(raw) > maxFindingBytes {
		return &importFailure{probe.Id, "FindingSizeExceeded", fmt.Sprintf("finding is %d bytes; at most %d allowed", len(raw), maxFindingBytes)}
	}
	f, err := parseFinding(raw)
	if err == nil {
		err = f.validateImport()
	}
	if err != nil {
		return &importFailure{probe.Id, "InvalidInput", err.Error()}
	}
	s.put(f)
	return nil
}

// findingIdentifier is the wire shape of types.AwsSecurityFindingIdentifier.
type findingIdentifier struct {
	Id         string
	ProductArn string
}

// unprocessed is one BatchUpdateFindings UnprocessedFindings entry.
type unprocessed struct {
	FindingIdentifier findingIdentifier
	ErrorCode         string
	ErrorMessage      string
}

// batchUpdateRequest is the BatchUpdateFindings request body. Members that
// replace a finding field wholesale are kept raw.
type batchUpdateRequest struct {
	FindingIdentifiers []findingIdentifier
	Note               *struct{ Text, UpdatedBy string }
	Severity           map[string]json.RawMessage
	Workflow           map[string]json.RawMessage
	UserDefinedFields  map[string]string
	VerificationState  json.RawMessage
	Confidence         json.RawMessage
	Criticality        json.RawMessage
	Types              json.RawMessage
	RelatedFindings    json.RawMessage
}

// batchUpdate applies one BatchUpdateFindings request. As in Security Hub,
// UpdatedAt is not changed; Note gets UpdatedAt set to now.
func (s *Server) batchUpdate(body []byte) (any, int, error) {
	var req batchUpdateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, 0, fmt.Errorf("BatchUpdateFindings request: %w", err)
	}
	n := len(req.FindingIdentifiers)
	if n == 0 || n > maxUpdateFindings {
		return nil, n, fmt.Errorf("FindingIdentifiers: must hold 1 to %d identifiers (got %d)", maxUpdateFindings, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	processed := []findingIdentifier{}
	failed := []unprocessed{}
	seen := map[key]bool{}
	for _, id := range req.FindingIdentifiers {
		k := key{id.ProductArn, id.Id}
		i, exists := s.index[k]
		fault, faulted := s.takeItemFault(BatchUpdateFindings, id.Id)
		switch {
		case seen[k]:
			failed = append(failed, unprocessed{id, "DuplicatedFindingIdentifier", "the request names this finding more than once"})
		case faulted:
			failed = append(failed, unprocessed{id, fault.code, fault.message})
		case !exists:
			failed = append(failed, unprocessed{id, "FindingNotFound", "Finding Not Found"})
		default:
			s.applyUpdate(s.findings[i], &req)
			processed = append(processed, id)
		}
		seen[k] = true
	}
	return struct {
		ProcessedFindings   []findingIdentifier
		UnprocessedFindings []unprocessed
	}{processed, failed}, n, nil
}

// applyUpdate changes f as the request says. The caller holds s.mu.
func (s *Server) applyUpdate(f *finding, req *batchUpdateRequest) {
	if req.Note != nil {
		f.setValue("Note", map[string]string{
			"Text": req.Note.Text, "UpdatedBy": req.Note.UpdatedBy,
			"UpdatedAt": s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		})
	}
	for name, patch := range map[string]map[string]json.RawMessage{"Severity": req.Severity, "Workflow": req.Workflow} {
		if patch != nil {
			f.set(name, mergeObject(f.fields[name], patch))
		}
	}
	if req.UserDefinedFields != nil {
		fields := map[string]string{}
		_ = json.Unmarshal(f.fields["UserDefinedFields"], &fields)
		for k, v := range req.UserDefinedFields {
			fields[k] = v
		}
		f.setValue("UserDefinedFields", fields)
	}
	for name, v := range map[string]json.RawMessage{
		"VerificationState": req.VerificationState, "Confidence": req.Confidence,
		"Criticality": req.Criticality, "Types": req.Types, "RelatedFindings": req.RelatedFindings,
	} {
		if v != nil {
			f.set(name, v)
		}
	}
}

// mergeObject overlays patch on the object old (which may be absent).
func mergeObject(old json.RawMessage, patch map[string]json.RawMessage) json.RawMessage {
	obj := map[string]json.RawMessage{}
	_ = json.Unmarshal(old, &obj)
	for k, v := range patch {
		obj[k] = v
	}
	b, _ := json.Marshal(obj)
	return b
}
