package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/sprig"
	yaml2 "gopkg.in/yaml.v2"
)

// maxIncludeDepth bounds recursive include/tpl calls, as Helm does, so a self-including template fails instead of hanging.
const maxIncludeDepth = 1000

type engine struct {
	tmpl  *template.Template
	depth map[string]int
}

// toYAML marshals like Helm's toYaml: through JSON (so struct and map keys follow JSON rules, mappings sorted),
// then YAML 1.1 via yaml.v2, without the trailing newline; an error gives "".
func toYAML(v interface{}) string {
	out, err := marshalYAML(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(out, "\n")
}

func marshalYAML(v interface{}) (string, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var generic interface{}
	if err := yaml2.Unmarshal(j, &generic); err != nil {
		return "", err
	}
	y, err := yaml2.Marshal(generic)
	if err != nil {
		return "", err
	}
	return string(y), nil
}

func fromYAML(s string) map[string]interface{} {
	var doc interface{}
	if err := yaml2.Unmarshal([]byte(s), &doc); err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	if doc == nil {
		return map[string]interface{}{}
	}
	m, ok := jsonTypes(doc).(map[string]interface{})
	if !ok {
		return map[string]interface{}{"Error": fmt.Sprintf("error unmarshaling JSON: cannot unmarshal %T into a map", doc)}
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	var doc interface{}
	if err := yaml2.Unmarshal([]byte(s), &doc); err != nil {
		return []interface{}{err.Error()}
	}
	if doc == nil {
		return []interface{}{}
	}
	l, ok := jsonTypes(doc).([]interface{})
	if !ok {
		return []interface{}{fmt.Sprintf("error unmarshaling JSON: cannot unmarshal %T into an array", doc)}
	}
	return l
}

func toJSON(v interface{}) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	var l []interface{}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return []interface{}{err.Error()}
	}
	return l
}

func toTOML(v interface{}) string {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(v); err != nil {
		return err.Error()
	}
	return b.String()
}

func (e *engine) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"toToml":        toTOML,
		"include":       e.include,
		"tpl":           e.tpl,
		"required": func(message string, v interface{}) (interface{}, error) {
			if v == nil {
				return v, errors.New(message)
			}
			if s, ok := v.(string); ok && s == "" {
				return v, errors.New(message)
			}
			return v, nil
		},
		"fail": func(message string) (string, error) { return "", errors.New(message) },
		"lookup": func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for name, fn := range extra {
		f[name] = fn
	}
	return f
}

func (e *engine) include(name string, data interface{}) (string, error) {
	if e.depth[name] >= maxIncludeDepth {
		return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
	}
	e.depth[name]++
	defer func() { e.depth[name]-- }()
	var b strings.Builder
	if err := e.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// tpl renders a string as a template, with the chart's named templates available and the caller's template name
// (so errors point at the file that called tpl).
func (e *engine) tpl(text string, data interface{}) (string, error) {
	name := "tpl"
	if root, ok := data.(map[string]interface{}); ok {
		if t, ok := root["Template"].(map[string]interface{}); ok {
			if n, ok := t["Name"].(string); ok && n != "" {
				name = n
			}
		}
	}
	clone, err := e.tmpl.Clone()
	if err != nil {
		return "", err
	}
	inner := &engine{tmpl: clone, depth: e.depth}
	clone.Funcs(inner.funcs())
	t, err := clone.New(name).Parse(text)
	if err != nil {
		return "", fmt.Errorf("cannot parse template %q: %w", text, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
	}
	return strings.ReplaceAll(b.String(), "<no value>", ""), nil
}

// render executes every template that is not a partial (base name starting with "_") and not NOTES.txt.
func render(c *chart, values map[string]interface{}, caps *Capabilities, o *options) (map[string]string, error) {
	e := &engine{depth: map[string]int{}}
	e.tmpl = template.New("gotpl").Option("missingkey=zero")
	e.tmpl.Funcs(e.funcs())
	for _, f := range c.templates {
		if _, err := e.tmpl.New(f.name).Parse(f.data); err != nil {
			return nil, fmt.Errorf("parse error at (%s", strings.TrimPrefix(err.Error(), "template: "))
		}
	}
	base := c.meta.Name + "/templates"
	out := map[string]string{}
	for _, f := range c.templates {
		if strings.HasPrefix(path.Base(f.name), "_") || f.name == base+"/NOTES.txt" {
			continue
		}
		root := map[string]interface{}{
			"Values": values,
			"Release": map[string]interface{}{
				"Name": o.release, "Namespace": o.namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Chart":        c.meta,
			"Capabilities": caps,
			"Files":        c.files,
			"Subcharts":    map[string]interface{}{},
			"Template":     map[string]interface{}{"Name": f.name, "BasePath": base},
		}
		var b strings.Builder
		if err := e.tmpl.ExecuteTemplate(&b, f.name, root); err != nil {
			return nil, reformatExecError(err)
		}
		out[f.name] = strings.ReplaceAll(b.String(), "<no value>", "")
	}
	return out, nil
}

var execErrorPattern = regexp.MustCompile(`(?s)^template: (\S+?): executing "[^"]*" at <.*?>: error calling (?:required|fail): (.*)$`)

// reformatExecError turns the error of a required or fail call into Helm's "execution error at (file:line:col): message".
func reformatExecError(err error) error {
	msg := err.Error()
	// An error raised inside include/tpl is wrapped by the outer call; the innermost message is the user's.
	for {
		m := execErrorPattern.FindStringSubmatch(msg)
		if m == nil {
			break
		}
		inner := m[2]
		if n := execErrorPattern.FindStringSubmatch(inner); n != nil {
			msg = inner
			continue
		}
		return fmt.Errorf("execution error at (%s): %s", m[1], inner)
	}
	return err
}
