// Command renderer renders a Helm chart the way `helm template` does, using Go's text/template and the sprig
// function library (the same engine Helm is built on) without the helm binary. See ../README.md for what it covers.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// multiFlag collects a repeatable command-line option.
type multiFlag []string

type options struct {
	chartDir    string
	valueFiles  multiFlag
	sets        multiFlag
	setStrings  multiFlag
	release     string
	namespace   string
	output      string
	kubeVersion string
	apiVersions multiFlag
}

const usage = `usage: renderer --yaml-to-json FILE|-   (a multi-document YAML stream to a JSON array, in order)
       renderer --chart DIR [-f values.yaml]... [--set a.b=c]... [--set-string a.b=c]...
                [--release NAME] [--namespace NS] [--output yaml|json]
                [--kube-version 1.31.0] [--api-versions group/version[/Kind],...]...`

func parseArgs(args []string) (*options, error) {
	o := &options{release: "release-name", namespace: "default", output: "yaml", kubeVersion: "1.31.0"}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, inline := arg, "", false
		if strings.HasPrefix(arg, "--") {
			if eq := strings.IndexByte(arg, '='); eq > 0 {
				name, value, inline = arg[:eq], arg[eq+1:], true
			}
		}
		next := func() (string, error) {
			if inline {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch name {
		case "--chart":
			v, err = next()
			o.chartDir = v
		case "-f", "--values":
			v, err = next()
			o.valueFiles = append(o.valueFiles, v)
		case "--set":
			v, err = next()
			o.sets = append(o.sets, v)
		case "--set-string":
			v, err = next()
			o.setStrings = append(o.setStrings, v)
		case "--release", "--name-template":
			v, err = next()
			o.release = v
		case "--namespace", "-n":
			v, err = next()
			o.namespace = v
		case "--output", "-o":
			v, err = next()
			o.output = v
		case "--kube-version":
			v, err = next()
			o.kubeVersion = v
		case "--api-versions", "-a":
			v, err = next()
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					o.apiVersions = append(o.apiVersions, part)
				}
			}
		case "-h", "--help":
			fmt.Println(usage)
			os.Exit(0)
		default:
			if o.chartDir == "" && !strings.HasPrefix(arg, "-") {
				o.chartDir = arg
				continue
			}
			return nil, fmt.Errorf("unknown option %q\n%s", arg, usage)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.chartDir == "" {
		return nil, fmt.Errorf("--chart is required\n%s", usage)
	}
	if o.output != "yaml" && o.output != "json" {
		return nil, fmt.Errorf("--output must be yaml or json, not %q", o.output)
	}
	return o, nil
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "Error: %s\n", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--yaml-to-json" {
		if err := yamlToJSON(os.Args[2]); err != nil {
			fail(err)
		}
		return
	}
	o, err := parseArgs(os.Args[1:])
	if err != nil {
		fail(err)
	}
	ch, err := loadChart(o.chartDir)
	if err != nil {
		fail(err)
	}
	caps, err := newCapabilities(o.kubeVersion, o.apiVersions)
	if err != nil {
		fail(err)
	}
	if err := checkKubeVersion(ch, caps); err != nil {
		fail(err)
	}
	values, err := buildValues(ch, o)
	if err != nil {
		fail(err)
	}
	if err := validateSchema(ch, values); err != nil {
		fail(err)
	}
	rendered, err := render(ch, values, caps, o)
	if err != nil {
		fail(err)
	}
	manifests, err := splitAndSort(rendered)
	if err != nil {
		fail(err)
	}
	if o.output == "json" {
		docs := make([]interface{}, 0, len(manifests))
		for _, m := range manifests {
			if m.object != nil {
				docs = append(docs, m.object)
			}
		}
		out, err := json.MarshalIndent(docs, "", "  ")
		if err != nil {
			fail(fmt.Errorf("converting the manifests to JSON: %w", err))
		}
		os.Stdout.Write(out)
		os.Stdout.WriteString("\n")
		return
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	os.Stdout.WriteString(b.String())
}

// yamlToJSON prints a multi-document YAML stream (a file, or "-" for stdin) as a JSON array of its non-empty
// documents, in order, read as Kubernetes reads YAML. The harness uses it for `kubectl kustomize` output.
func yamlToJSON(file string) error {
	var raw []byte
	var err error
	if file == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	manifests, err := parseDocuments(file, string(raw))
	if err != nil {
		return err
	}
	docs := make([]interface{}, 0, len(manifests))
	for _, m := range manifests {
		if m.object != nil {
			docs = append(docs, m.object)
		}
	}
	out, err := json.MarshalIndent(docs, "", "  ")
	if err != nil {
		return err
	}
	os.Stdout.Write(out)
	os.Stdout.WriteString("\n")
	return nil
}
