package main

import (
	"fmt"

	"hubtriage/internal/buildinfo"
)

// version is what `hubtriage --version` prints after "hubtriage version":
// the module version, the VCS revision and the Go toolchain the binary was
// built from, as the toolchain recorded them.
func version() string {
	info := buildinfo.Read()
	return fmt.Sprintf("%s (revision %s, %s)", info.Version, info.Revision, info.GoVersion)
}
