package asffgen

// The JSON shapes the generator writes: the subset of ASFF and of the
// EventBridge envelope that real producers fill, in the key order AWS uses.

type envelope struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     detail   `json:"detail"`
}

type detail struct {
	Findings []*finding `json:"findings"`
}

type finding struct {
	SchemaVersion   string            `json:"SchemaVersion"`
	ID              string            `json:"Id"`
	ProductArn      string            `json:"ProductArn"`
	ProductName     string            `json:"ProductName,omitempty"`
	CompanyName     string            `json:"CompanyName,omitempty"`
	Region          string            `json:"Region,omitempty"`
	GeneratorID     string            `json:"GeneratorId"`
	AwsAccountID    string            `json:"AwsAccountId"`
	Types           []string          `json:"Types"`
	FirstObservedAt string            `json:"FirstObservedAt,omitempty"`
	LastObservedAt  string            `json:"LastObservedAt,omitempty"`
	CreatedAt       string            `json:"CreatedAt"`
	UpdatedAt       string            `json:"UpdatedAt"`
	Severity        severity          `json:"Severity"`
	Title           string            `json:"Title"`
	Description     string            `json:"Description"`
	Remediation     *remediation      `json:"Remediation,omitempty"`
	ProductFields   map[string]string `json:"ProductFields"`
	Resources       []resource        `json:"Resources"`
	Compliance      *compliance       `json:"Compliance,omitempty"`
	WorkflowState   string            `json:"WorkflowState"`
	Workflow        workflow          `json:"Workflow"`
	RecordState     string            `json:"RecordState"`
	Vulnerabilities []vulnerability   `json:"Vulnerabilities,omitempty"`
}

type severity struct {
	Product    float64 `json:"Product,omitempty"`
	Label      string  `json:"Label"`
	Normalized int     `json:"Normalized"`
	Original   string  `json:"Original,omitempty"`
}

type remediation struct {
	Recommendation recommendation `json:"Recommendation"`
}

type recommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url"`
}

type resource struct {
	Type      string            `json:"Type"`
	ID        string            `json:"Id"`
	Partition string            `json:"Partition"`
	Region    string            `json:"Region"`
	Tags      map[string]string `json:"Tags,omitempty"`
	Details   any               `json:"Details,omitempty"`
}

type compliance struct {
	Status            string `json:"Status"`
	SecurityControlID string `json:"SecurityControlId,omitempty"`
}

type workflow struct {
	Status string `json:"Status"`
}

type vulnerability struct {
	ID                 string   `json:"Id"`
	VulnerablePackages []pkg    `json:"VulnerablePackages"`
	Cvss               []cvss   `json:"Cvss"`
	Vendor             vendor   `json:"Vendor"`
	FixAvailable       string   `json:"FixAvailable"`
	ReferenceUrls      []string `json:"ReferenceUrls,omitempty"`
}

type pkg struct {
	Name           string `json:"Name"`
	Version        string `json:"Version"`
	Epoch          string `json:"Epoch"`
	PackageManager string `json:"PackageManager"`
	FixedInVersion string `json:"FixedInVersion"`
}

type cvss struct {
	Version    string  `json:"Version"`
	BaseScore  float64 `json:"BaseScore"`
	BaseVector string  `json:"BaseVector"`
	Source     string  `json:"Source"`
}

type vendor struct {
	Name           string `json:"Name"`
	URL            string `json:"Url"`
	VendorSeverity string `json:"VendorSeverity"`
}
