package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	yaml2 "gopkg.in/yaml.v2"
	"gopkg.in/yaml.v3"
)

type manifest struct {
	source  string      // the template's name: <chart>/templates/<file>
	content string      // the document's text, trimmed
	kind    string      // its kind, "" if none
	hook    bool        // has a helm.sh/hook annotation (printed after the other manifests, as helm template does)
	object  interface{} // the document as JSON-compatible data (nil for an empty document)
	order   int
}

// installOrder is the order Helm installs kinds in; unknown kinds come after these, alphabetically by kind.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
	"PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*(?:#.*)?$`)

// splitAndSort splits each rendered file into its YAML documents, drops the empty ones, checks each parses as YAML,
// and orders them: non-hooks before hooks, then by kind in install order, then by file path, then position in file.
func splitAndSort(rendered map[string]string) ([]manifest, error) {
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		names = append(names, name)
	}
	sort.Strings(names)
	var all []manifest
	for _, name := range names {
		docs, err := parseDocuments(name, rendered[name])
		if err != nil {
			return nil, err
		}
		for _, m := range docs {
			m.order = len(all)
			all = append(all, m)
		}
	}
	rank := map[string]int{}
	for i, k := range installOrder {
		rank[k] = i
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.hook != b.hook {
			return !a.hook
		}
		ra, aKnown := rank[a.kind]
		rb, bKnown := rank[b.kind]
		switch {
		case aKnown && bKnown && ra != rb:
			return ra < rb
		case aKnown != bKnown:
			return aKnown
		case !aKnown && !bKnown && a.kind != b.kind:
			return a.kind < b.kind
		}
		return a.order < b.order
	})
	return all, nil
}

// plainTypes turns yaml.v2's map[interface{}]interface{} into map[string]interface{} for encoding/json.
func plainTypes(v interface{}) interface{} {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			m[keyString(k)] = plainTypes(val)
		}
		return m
	case []interface{}:
		for i := range x {
			x[i] = plainTypes(x[i])
		}
		return x
	default:
		return v
	}
}

func numbered(doc string) string {
	var b strings.Builder
	for i, line := range strings.Split(doc, "\n") {
		fmt.Fprintf(&b, "%4d: %s\n", i+1, line)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// parseDocuments splits a file into its non-empty YAML documents and parses each: yaml.v3 must accept it (duplicate
// keys are refused), and its data is read with yaml.v2, as Kubernetes (sigs.k8s.io/yaml, YAML 1.1) reads it.
func parseDocuments(name, text string) ([]manifest, error) {
	var out []manifest
	for _, doc := range documentSeparator.Split(text, -1) {
		doc = strings.TrimSpace(doc)
		if doc == "" {
			continue
		}
		var check yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &check); err != nil {
			return nil, fmt.Errorf("YAML parse error on %s: %w\n%s", name, err, numbered(doc))
		}
		var object interface{}
		if err := yaml2.Unmarshal([]byte(doc), &object); err != nil {
			return nil, fmt.Errorf("YAML parse error on %s: %w\n%s", name, err, numbered(doc))
		}
		m := manifest{source: name, content: doc}
		if object != nil {
			obj, ok := plainTypes(object).(map[string]interface{})
			if !ok {
				return nil, fmt.Errorf("YAML parse error on %s: a manifest must be a mapping, not %T", name, object)
			}
			m.kind, _ = obj["kind"].(string)
			if meta, ok := obj["metadata"].(map[string]interface{}); ok {
				if ann, ok := meta["annotations"].(map[string]interface{}); ok {
					_, m.hook = ann["helm.sh/hook"]
				}
			}
			m.object = obj
		}
		out = append(out, m)
	}
	return out, nil
}
