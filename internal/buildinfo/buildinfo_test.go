package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"clone with a clean tree", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "b37241f0"}, {Key: "vcs.modified", Value: "false"}}},
			Info{Version: "(devel)", Revision: "b37241f0", GoVersion: "go1.26.0"}},
		{"uncommitted changes", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "b37241f0"}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "(devel)", Revision: "b37241f0-modified", GoVersion: "go1.26.0"}},
		{"go install @version", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}},
			Info{Version: "v1.2.3", Revision: "unknown", GoVersion: "go1.26.0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fromBuildInfo(&c.bi); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	if got := Read(); got.GoVersion != runtime.Version() || got.Version == "" || got.Revision == "" {
		t.Errorf("Read() = %+v: want this toolchain's version and no empty field", got)
	}
}
