package asff

import (
	stdjson "encoding/json"
)

// ocsfFinding mirrors the parts of an OCSF finding (schema 1.x, classes
// 2002 Vulnerability, 2003 Compliance, 2004 Detection, 2006 Data Security)
// that the new Security Hub writes and hubtriage maps (see ocsfToASFF).
// Unknown members are ignored; the whole object stays in Finding.Raw.
type ocsfFinding struct {
	ActivityID      int             `json:"activity_id"`
	ActivityName    string          `json:"activity_name"`
	ClassUID        int             `json:"class_uid"`
	Severity        string          `json:"severity"`
	SeverityID      int             `json:"severity_id"`
	Status          string          `json:"status"`
	StatusID        int             `json:"status_id"`
	Time            int64           `json:"time"`
	TimeDt          string          `json:"time_dt"`
	FindingInfo     ocsfFindingInfo `json:"finding_info"`
	Metadata        ocsfMetadata    `json:"metadata"`
	Cloud           ocsfCloud       `json:"cloud"`
	Resources       []ocsfResource  `json:"resources"`
	Compliance      *ocsfCompliance `json:"compliance"`
	Vulnerabilities []ocsfVuln      `json:"vulnerabilities"`
	Remediation     ocsfRemediation `json:"remediation"`
	Comment         string          `json:"comment"`
}

type ocsfFindingInfo struct {
	UID             string             `json:"uid"`
	Title           string             `json:"title"`
	Desc            string             `json:"desc"`
	SrcURL          string             `json:"src_url"`
	Types           []string           `json:"types"`
	Analytic        ocsfUID            `json:"analytic"`
	CreatedTime     int64              `json:"created_time"`
	CreatedTimeDt   string             `json:"created_time_dt"`
	ModifiedTime    int64              `json:"modified_time"`
	ModifiedTimeDt  string             `json:"modified_time_dt"`
	FirstSeenTime   int64              `json:"first_seen_time"`
	FirstSeenTimeDt string             `json:"first_seen_time_dt"`
	LastSeenTime    int64              `json:"last_seen_time"`
	LastSeenTimeDt  string             `json:"last_seen_time_dt"`
	RelatedEvents   []ocsfRelatedEvent `json:"related_events"`
}

type ocsfUID struct {
	UID string `json:"uid"`
}

type ocsfRelatedEvent struct {
	UID     string  `json:"uid"`
	Product ocsfUID `json:"product"`
}

type ocsfMetadata struct {
	Version string      `json:"version"`
	Product ocsfProduct `json:"product"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	UID        string `json:"uid"`
	VendorName string `json:"vendor_name"`
}

type ocsfCloud struct {
	Account        ocsfUID `json:"account"`
	Region         string  `json:"region"`
	CloudPartition string  `json:"cloud_partition"`
}

type ocsfResource struct {
	Type           string             `json:"type"`
	UID            string             `json:"uid"`
	UIDAlt         string             `json:"uid_alt"`
	Name           string             `json:"name"`
	Region         string             `json:"region"`
	CloudPartition string             `json:"cloud_partition"`
	Owner          ocsfOwner          `json:"owner"`
	Tags           []ocsfTag          `json:"tags"`
	Data           stdjson.RawMessage `json:"data"`
}

type ocsfOwner struct {
	Account ocsfUID `json:"account"`
}

type ocsfTag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type ocsfCompliance struct {
	Control   string   `json:"control"`
	Status    string   `json:"status"`
	StatusID  int      `json:"status_id"`
	Standards []string `json:"standards"`
}

type ocsfVuln struct {
	CVE      ocsfUID `json:"cve"`
	Severity string  `json:"severity"`
}

type ocsfRemediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references"`
}
