package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver"
	"gopkg.in/yaml.v3"
)

// Maintainer is one entry of Chart.yaml's maintainers, with the field names templates use (.Chart.Maintainers).
type Maintainer struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	URL   string `yaml:"url"`
}

// Dependency is one entry of Chart.yaml's dependencies. Subcharts are not rendered (see the README).
type Dependency struct {
	Name         string        `yaml:"name"`
	Version      string        `yaml:"version"`
	Repository   string        `yaml:"repository"`
	Condition    string        `yaml:"condition"`
	Tags         []string      `yaml:"tags"`
	Enabled      bool          `yaml:"enabled"`
	ImportValues []interface{} `yaml:"import-values"`
	Alias        string        `yaml:"alias"`
}

// Metadata is Chart.yaml as templates see it through .Chart: a struct, so an unknown field is an error as in Helm.
type Metadata struct {
	Name         string            `yaml:"name"`
	Home         string            `yaml:"home"`
	Sources      []string          `yaml:"sources"`
	Version      string            `yaml:"version"`
	Description  string            `yaml:"description"`
	Keywords     []string          `yaml:"keywords"`
	Maintainers  []*Maintainer     `yaml:"maintainers"`
	Icon         string            `yaml:"icon"`
	APIVersion   string            `yaml:"apiVersion"`
	Condition    string            `yaml:"condition"`
	Tags         string            `yaml:"tags"`
	AppVersion   string            `yaml:"appVersion"`
	Deprecated   bool              `yaml:"deprecated"`
	Annotations  map[string]string `yaml:"annotations"`
	KubeVersion  string            `yaml:"kubeVersion"`
	Dependencies []*Dependency     `yaml:"dependencies"`
	Type         string            `yaml:"type"`
}

type templateFile struct {
	name string // "<chart>/templates/<relative path>", the name Helm gives it
	data string
}

type chart struct {
	dir       string
	meta      *Metadata
	values    map[string]interface{}
	schema    []byte
	templates []templateFile
	files     Files
}

func loadChart(dir string) (*chart, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a chart directory (packaged charts are not supported)", dir)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml file is missing: %w", err)
	}
	meta := &Metadata{}
	if err := yaml.Unmarshal(raw, meta); err != nil {
		return nil, fmt.Errorf("cannot load Chart.yaml: %w", err)
	}
	if meta.APIVersion == "" {
		return nil, fmt.Errorf("validation: chart.metadata.apiVersion is required")
	}
	if meta.Name == "" {
		return nil, fmt.Errorf("validation: chart.metadata.name is required")
	}
	if meta.Version == "" {
		return nil, fmt.Errorf("validation: chart.metadata.version is required")
	}
	if _, err := semver.NewVersion(meta.Version); err != nil {
		return nil, fmt.Errorf("validation: chart.metadata.version %q is invalid", meta.Version)
	}
	if meta.Type == "library" {
		return nil, fmt.Errorf("library charts are not installable")
	}
	c := &chart{dir: dir, meta: meta, values: map[string]interface{}{}, files: Files{}}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		v, err := readValues(raw)
		if err != nil {
			return nil, fmt.Errorf("cannot load values.yaml: %w", err)
		}
		c.values = v
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		c.schema = raw
	}
	if len(meta.Dependencies) > 0 {
		fmt.Fprintf(os.Stderr, "warning: %s declares dependencies; subcharts are not rendered by this renderer\n", meta.Name)
	}
	ignore := loadIgnore(filepath.Join(dir, ".helmignore"))
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore.ignored(rel, fi.IsDir()) {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if fi.IsDir() {
			if rel == "charts" {
				if entries, _ := os.ReadDir(p); len(entries) > 0 {
					fmt.Fprintf(os.Stderr, "warning: %s/charts is not empty; subcharts are not rendered by this renderer\n", meta.Name)
				}
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.templates = append(c.templates, templateFile{name: meta.Name + "/" + rel, data: string(data)})
		case rel == "Chart.yaml", rel == "values.yaml", rel == "values.schema.json", rel == "Chart.lock",
			rel == "requirements.yaml", rel == "requirements.lock":
		default:
			c.files[rel] = data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(c.templates, func(i, j int) bool { return c.templates[i].name < c.templates[j].name })
	return c, nil
}

// helmIgnore is the subset of .helmignore this renderer understands: comments, blank lines, shell globs matched
// against the relative path and against the base name, and a trailing "/" for directories. "!" negation is not.
type helmIgnore []string

func loadIgnore(file string) helmIgnore {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var rules helmIgnore
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "!") {
			continue
		}
		rules = append(rules, line)
	}
	return rules
}

func (h helmIgnore) ignored(rel string, dir bool) bool {
	if rel == "templates" || rel == "Chart.yaml" || rel == "values.yaml" {
		return false
	}
	for _, rule := range h {
		pattern := rule
		if strings.HasSuffix(pattern, "/") {
			if !dir {
				continue
			}
			pattern = strings.TrimSuffix(pattern, "/")
		}
		pattern = strings.TrimPrefix(pattern, "/")
		if ok, _ := path.Match(pattern, rel); ok {
			return true
		}
		if !strings.Contains(pattern, "/") {
			if ok, _ := path.Match(pattern, path.Base(rel)); ok {
				return true
			}
		}
	}
	return false
}

// Files is .Files: the chart's files outside templates/ (and outside Chart.yaml, values.yaml, values.schema.json).
type Files map[string][]byte

// Get returns a file's content as a string, or "" when there is no such file.
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's content as bytes.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Glob returns the files whose path matches pattern: "*" stays within a path segment, "**" crosses segments,
// "?" is one character, [...] a class and {a,b} an alternation.
func (f Files) Glob(pattern string) Files {
	re, err := globRegexp(pattern)
	out := Files{}
	if err != nil {
		return out
	}
	for name, data := range f {
		if re.MatchString(name) {
			out[name] = data
		}
	}
	return out
}

// AsConfig renders the files as the body of a ConfigMap's data: base name to content, as YAML.
func (f Files) AsConfig() string {
	m := map[string]interface{}{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	if len(m) == 0 {
		return ""
	}
	return toYAML(m)
}

// AsSecrets renders the files as the body of a Secret's data: base name to base64 content, as YAML.
func (f Files) AsSecrets() string {
	m := map[string]interface{}{}
	for name, data := range f {
		m[path.Base(name)] = base64.StdEncoding.EncodeToString(data)
	}
	if len(m) == 0 {
		return ""
	}
	return toYAML(m)
}

// Lines returns a file's lines, without a final empty line after a trailing newline.
func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated [ in %q", pattern)
			}
			class := pattern[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		case '{':
			depth++
			b.WriteString("(?:")
		case '}':
			if depth > 0 {
				depth--
				b.WriteString(")")
			} else {
				b.WriteString(`\}`)
			}
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteString(regexp.QuoteMeta(string(pattern[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string { return k.Version }

// GitVersion is the deprecated alias of Version that charts still use.
func (k KubeVersion) GitVersion() string { return k.Version }

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has reports whether "group/version" or "group/version/Kind" is available, by exact membership as in Helm.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// HelmVersion is .Capabilities.HelmVersion: the Helm release whose template semantics this renderer follows.
type HelmVersion struct {
	Version      string
	GitCommit    string
	GitTreeState string
	GoVersion    string
}

// Capabilities is .Capabilities.
type Capabilities struct {
	APIVersions VersionSet
	KubeVersion KubeVersion
	HelmVersion HelmVersion
}

// builtinAPIVersions are the group/versions a Kubernetes 1.31 API server serves by default; like `helm template`
// without a cluster, only group/versions are listed (no "group/version/Kind" entries) unless given by --api-versions.
var builtinAPIVersions = []string{
	"v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "apiregistration.k8s.io/v1", "apps/v1",
	"authentication.k8s.io/v1", "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2", "batch/v1",
	"certificates.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta3", "networking.k8s.io/v1",
	"node.k8s.io/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1",
}

func newCapabilities(kubeVersion string, extra []string) (*Capabilities, error) {
	v, err := semver.NewVersion(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid --kube-version %q: %w", kubeVersion, err)
	}
	versions := append(VersionSet{}, builtinAPIVersions...)
	versions = append(versions, extra...)
	return &Capabilities{
		APIVersions: versions,
		KubeVersion: KubeVersion{Version: "v" + v.String(), Major: fmt.Sprint(v.Major()), Minor: fmt.Sprint(v.Minor())},
		HelmVersion: HelmVersion{Version: "v3.16.0", GitTreeState: "clean", GoVersion: "go1.19"},
	}, nil
}

// checkKubeVersion refuses a chart whose Chart.yaml kubeVersion constraint excludes the target version, as Helm does.
func checkKubeVersion(c *chart, caps *Capabilities) error {
	if c.meta.KubeVersion == "" {
		return nil
	}
	constraint, err := semver.NewConstraint(c.meta.KubeVersion)
	if err != nil {
		return fmt.Errorf("invalid kubeVersion %q in Chart.yaml: %w", c.meta.KubeVersion, err)
	}
	v, err := semver.NewVersion(caps.KubeVersion.Version)
	if err != nil {
		return err
	}
	if !constraint.Check(v) {
		return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.meta.KubeVersion, caps.KubeVersion.Version)
	}
	return nil
}
