package correlate

import (
	"cmp"
	"slices"

	json "github.com/goccy/go-json"
)

// matches lists the conditions a finding satisfies on one resource,
// ordered by rule and condition name, each with the condition's distinct_by
// values in the finding (empty without distinct_by). It is a sorted list
// rather than nested maps because every evaluation decodes it for every
// finding on the resource. Its JSON form, kept for entries written by
// earlier versions, is {"rule": {"condition": [values]}}.
type matches []condValues

// condValues is one satisfied condition of one rule.
type condValues struct {
	Rule, Cond string
	Values     []string
}

// sortMatches orders m by rule and condition name.
func sortMatches(m matches) { slices.SortFunc(m, compareMatch) }

func compareMatch(a, b condValues) int {
	return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Cond, b.Cond))
}

// values returns the distinct values of rule's condition cond, and whether
// the finding satisfies it.
func (m matches) values(rule, cond string) ([]string, bool) {
	for _, c := range m {
		if c.Rule == rule && c.Cond == cond {
			return c.Values, true
		}
	}
	return nil, false
}

// ofRule returns the matches of one rule (a sub-slice of m).
func (m matches) ofRule(rule string) matches {
	start := -1
	for i, c := range m {
		switch {
		case c.Rule == rule && start < 0:
			start = i
		case c.Rule != rule && start >= 0:
			return m[start:i:i]
		}
	}
	if start < 0 {
		return nil
	}
	return m[start:len(m):len(m)]
}

func (m matches) MarshalJSON() ([]byte, error) {
	nested := map[string]map[string][]string{}
	for _, c := range m {
		if nested[c.Rule] == nil {
			nested[c.Rule] = map[string][]string{}
		}
		nested[c.Rule][c.Cond] = c.Values
	}
	return json.Marshal(nested)
}

func (m *matches) UnmarshalJSON(b []byte) error {
	var nested map[string]map[string][]string
	if err := json.Unmarshal(b, &nested); err != nil {
		return err
	}
	*m = nil
	for rule, conds := range nested {
		for cond, vals := range conds {
			*m = append(*m, condValues{Rule: rule, Cond: cond, Values: vals})
		}
	}
	sortMatches(*m)
	return nil
}
