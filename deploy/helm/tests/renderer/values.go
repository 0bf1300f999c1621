package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"
	yaml2 "gopkg.in/yaml.v2"
)

// readValues reads a values file the way Helm does: YAML 1.1 (yaml.v2), then into JSON's types, so that every number
// becomes a float64 and every mapping a map[string]interface{}.
func readValues(raw []byte) (map[string]interface{}, error) {
	var doc interface{}
	if err := yaml2.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := jsonTypes(doc).(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("the values are a %T, not a mapping", doc)
	}
	return m, nil
}

// jsonTypes converts a yaml.v2 document to what encoding/json would produce for the same data.
func jsonTypes(v interface{}) interface{} {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			m[keyString(k)] = jsonTypes(val)
		}
		return m
	case map[string]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			m[k] = jsonTypes(val)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(x))
		for i, val := range x {
			l[i] = jsonTypes(val)
		}
		return l
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	default:
		return v
	}
}

func keyString(k interface{}) string {
	switch x := k.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(k)
	}
}

// mergeMaps overlays b on a (a later -f file on an earlier one): mappings merge key by key, anything else replaces.
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if om, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func deepCopy(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			m[k] = deepCopy(val)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(x))
		for i, val := range x {
			l[i] = deepCopy(val)
		}
		return l
	default:
		return v
	}
}

// coalesce fills the user's values in dst with the chart's defaults in src. A user value of null removes the key.
func coalesce(dst, src map[string]interface{}, prefix string) {
	for k, sv := range src {
		dv, present := dst[k]
		switch {
		case present && dv == nil:
			delete(dst, k)
		case !present:
			dst[k] = deepCopy(sv)
		default:
			dm, dIsMap := dv.(map[string]interface{})
			sm, sIsMap := sv.(map[string]interface{})
			if dIsMap && sIsMap {
				coalesce(dm, sm, prefix+k+".")
			} else if sIsMap && sv != nil {
				fmt.Fprintf(os.Stderr, "warning: cannot overwrite table with non table for %s%s (%v)\n", prefix, k, sv)
			} else if dIsMap && sv != nil {
				fmt.Fprintf(os.Stderr, "warning: destination for %s%s is a table. Ignoring non-table value (%v)\n", prefix, k, sv)
			}
		}
	}
}

func buildValues(c *chart, o *options) (map[string]interface{}, error) {
	user := map[string]interface{}{}
	for _, file := range o.valueFiles {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		v, err := readValues(raw)
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", file, err)
		}
		user = mergeMaps(user, v)
	}
	for _, s := range o.sets {
		if err := parseSet(s, user, false); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, s := range o.setStrings {
		if err := parseSet(s, user, true); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	coalesce(user, c.values, "")
	return user, nil
}

type pathSegment struct {
	key     string
	indices []int
}

// parseSet applies one --set argument ("a.b=1,c[0].d=x,e={1,2}") to values.
func parseSet(arg string, values map[string]interface{}, asString bool) error {
	for _, assignment := range splitUnescaped(arg, ',', true) {
		if assignment == "" {
			continue
		}
		eq := indexUnescaped(assignment, '=')
		if eq < 0 {
			return fmt.Errorf("key %q has no value", unescape(assignment))
		}
		segments, err := parseKey(assignment[:eq])
		if err != nil {
			return err
		}
		raw := assignment[eq+1:]
		var value interface{}
		if !asString && strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			list := []interface{}{}
			inner := raw[1 : len(raw)-1]
			if inner != "" {
				for _, item := range splitUnescaped(inner, ',', false) {
					list = append(list, typedValue(unescape(item), false))
				}
			}
			value = list
		} else {
			value = typedValue(unescape(raw), asString)
		}
		if err := setPath(values, segments, value); err != nil {
			return fmt.Errorf("%s: %w", assignment, err)
		}
	}
	return nil
}

// typedValue gives a --set value its type: true/false, null, integers without a leading zero; anything else
// (floats included) stays a string.
func typedValue(s string, asString bool) interface{} {
	if asString {
		return s
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	case "0":
		return int64(0)
	}
	if s != "" && s[0] != '0' {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	return s
}

func splitUnescaped(s string, sep byte, braces bool) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			if braces {
				depth++
			}
		case '}':
			if braces && depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseKey(key string) ([]pathSegment, error) {
	var segments []pathSegment
	for _, part := range splitUnescaped(key, '.', false) {
		seg := pathSegment{}
		name := part
		for strings.HasSuffix(name, "]") {
			open := strings.LastIndexByte(name, '[')
			if open < 0 {
				return nil, fmt.Errorf("key %q has an unmatched ]", key)
			}
			n, err := strconv.Atoi(name[open+1 : len(name)-1])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("key %q has an invalid list index %q", key, name[open+1:len(name)-1])
			}
			if n > 65536 {
				return nil, fmt.Errorf("key %q: list index %d is too large", key, n)
			}
			seg.indices = append([]int{n}, seg.indices...)
			name = name[:open]
		}
		seg.key = unescape(name)
		if seg.key == "" {
			return nil, fmt.Errorf("key %q has an empty segment", key)
		}
		segments = append(segments, seg)
	}
	return segments, nil
}

func setPath(m map[string]interface{}, segments []pathSegment, value interface{}) error {
	seg := segments[0]
	rest := segments[1:]
	if len(seg.indices) > 0 {
		list, _ := m[seg.key].([]interface{})
		updated, err := setInList(list, seg.indices, rest, value)
		if err != nil {
			return err
		}
		m[seg.key] = updated
		return nil
	}
	if len(rest) == 0 {
		m[seg.key] = value
		return nil
	}
	child, ok := m[seg.key].(map[string]interface{})
	if !ok {
		child = map[string]interface{}{}
		m[seg.key] = child
	}
	return setPath(child, rest, value)
}

func setInList(list []interface{}, indices []int, rest []pathSegment, value interface{}) ([]interface{}, error) {
	i := indices[0]
	for len(list) <= i {
		list = append(list, nil)
	}
	switch {
	case len(indices) > 1:
		sub, _ := list[i].([]interface{})
		updated, err := setInList(sub, indices[1:], rest, value)
		if err != nil {
			return nil, err
		}
		list[i] = updated
	case len(rest) == 0:
		list[i] = value
	default:
		child, ok := list[i].(map[string]interface{})
		if !ok {
			child = map[string]interface{}{}
		}
		if err := setPath(child, rest, value); err != nil {
			return nil, err
		}
		list[i] = child
	}
	return list, nil
}

// validateSchema checks the final values against values.schema.json with gojsonschema (JSON Schema draft 4/6/7,
// the validator Helm 3 used up to 3.17).
func validateSchema(c *chart, values map[string]interface{}) error {
	if c.schema == nil {
		return nil
	}
	doc, err := json.Marshal(values)
	if err != nil {
		return fmt.Errorf("converting the values to JSON: %w", err)
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(c.schema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		return fmt.Errorf("%s/values.schema.json: %w", c.meta.Name, err)
	}
	if result.Valid() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n", c.meta.Name)
	for _, e := range result.Errors() {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	return fmt.Errorf("%s", strings.TrimSuffix(b.String(), "\n"))
}
