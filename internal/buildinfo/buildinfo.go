// Package buildinfo reports which build of hubtriage is running, from the
// information the Go toolchain embeds in every binary (runtime/debug), so
// no linker flags are needed.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info describes the running binary.
type Info struct {
	// Version is the main module's version: a tag or pseudo-version for
	// `go install hubtriage/cmd/...@v1.2.3`, "(devel)" for a build in a
	// clone, "unknown" without build information.
	Version string
	// Revision is the VCS commit the binary was built from, with
	// "-modified" when the work tree had uncommitted changes; "unknown"
	// when the build recorded none (go test, -buildvcs=false).
	Revision string
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown", Revision: "unknown", GoVersion: runtime.Version()}
	}
	return fromBuildInfo(bi)
}

// fromBuildInfo extracts Info from the embedded build information.
func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Revision: "unknown", GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = "unknown"
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && info.Revision != "unknown" {
		info.Revision += "-modified"
	}
	return info
}
