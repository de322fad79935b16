// Command render renders a Helm chart the way `helm template` does, for the
// chart tests on machines without helm: text/template with sprig's functions
// and the ones Helm adds (include, tpl, required, toYaml, fromYaml, toJson,
// fromJson, lookup), .Values from values.yaml deep-merged with override files,
// .Release, .Chart and .Capabilities.
//
// Build offline with Debian's packages (golang-go,
// golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o render ./main.go
//
// Usage:
//
//	render -chart DIR [-name REL] [-namespace NS] [-f values.yaml]... [-notes] [-upgrade]
//
// Prints every rendered manifest as "---\n# Source: <chart>/templates/<file>"
// followed by the document (or, with -notes, NOTES.txt alone). A template
// error (fail, required, a bad reference) is printed to stderr, exit 1.
// -upgrade renders as `helm upgrade` (.Release.IsInstall false, IsUpgrade
// true, Revision 2).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

// Helm reads values through sigs.k8s.io/yaml: YAML is turned into JSON and
// decoded with encoding/json, so numbers are float64 and maps are
// map[string]interface{}. Doing the same keeps int/float behaviour (quote,
// printf, int) as in Helm.
func yamlToJSONValue(data []byte) (interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	conv, err := stringKeys(raw)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(conv)
	if err != nil {
		return nil, err
	}
	var out interface{}
	if err := json.Unmarshal(js, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func stringKeys(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprint(k)
			}
			c, err := stringKeys(val)
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, val := range t {
			c, err := stringKeys(val)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := yamlToJSONValue(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: top level is not a map", path)
	}
	return m, nil
}

// mergeValues is Helm's coalescing of user values over chart defaults: maps
// merge key by key, anything else replaces; a null removes the key.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]interface{})
		dm, dIsMap := dst[k].(map[string]interface{})
		if sIsMap && dIsMap {
			dst[k] = mergeValues(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// toYAML as sigs.k8s.io/yaml.Marshal: through JSON, keys sorted.
func toYAML(v interface{}) string {
	js, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yaml.Unmarshal(js, &obj); err != nil {
		return ""
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYAML(s string) map[string]interface{} {
	v, err := yamlToJSONValue([]byte(s))
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	m, _ := v.(map[string]interface{})
	if m == nil {
		m = map[string]interface{}{}
	}
	return m
}

func toJSON(v interface{}) string {
	js, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(js)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

type renderer struct {
	tmpl     *template.Template
	depth    int
	maxDepth int
}

func (r *renderer) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these: charts must not read the renderer's environment.
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["mustToYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["toJson"] = toJSON
	f["mustToJson"] = toJSON
	f["fromJson"] = fromJSON
	f["toToml"] = func(interface{}) string { return "" }
	// No cluster here: like `helm template`, lookup finds nothing.
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		if r.depth >= r.maxDepth {
			return "", fmt.Errorf("include %q: nesting deeper than %d", name, r.maxDepth)
		}
		r.depth++
		defer func() { r.depth-- }()
		var buf bytes.Buffer
		if err := r.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := r.tmpl.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

// chartMeta maps Chart.yaml's keys to the names templates use
// (.Chart.Name, .Chart.AppVersion, .Chart.APIVersion ...).
func chartMeta(m map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range m {
		key := strings.ToUpper(k[:1]) + k[1:]
		if k == "apiVersion" {
			key = "APIVersion"
		}
		out[key] = v
	}
	return out
}

func run() error {
	var values fileList
	chartDir := flag.String("chart", "", "chart directory")
	name := flag.String("name", "quorum", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notes := flag.Bool("notes", false, "print NOTES.txt instead of the manifests")
	upgrade := flag.Bool("upgrade", false, "render as `helm upgrade` does (.Release.IsUpgrade, revision 2)")
	flag.Var(&values, "f", "values file (repeatable, later wins)")
	flag.Parse()
	if *chartDir == "" {
		return errors.New("-chart is required")
	}

	chartYAML, err := readYAMLMap(filepath.Join(*chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chart := chartMeta(chartYAML)
	chartName, _ := chart["Name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml: no name")
	}

	vals, err := readYAMLMap(filepath.Join(*chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, p := range values {
		over, err := readYAMLMap(p)
		if err != nil {
			return err
		}
		vals = mergeValues(vals, over)
	}

	tdir := filepath.Join(*chartDir, "templates")
	entries, err := os.ReadDir(tdir)
	if err != nil {
		return err
	}
	r := &renderer{maxDepth: 1000}
	r.tmpl = template.New(chartName).Funcs(r.funcs())
	// Helm's default: a missing key renders as nothing, not "<no value>".
	r.tmpl.Option("missingkey=zero")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		n := e.Name()
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") &&
			!strings.HasSuffix(n, ".tpl") && !strings.HasSuffix(n, ".txt") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(tdir, n))
		if err != nil {
			return err
		}
		full := chartName + "/templates/" + n
		if _, err := r.tmpl.New(full).Parse(string(data)); err != nil {
			return err
		}
		names = append(names, full)
	}
	sort.Strings(names)

	revision := 1
	if *upgrade {
		revision = 2
	}
	top := func(tname string) map[string]interface{} {
		return map[string]interface{}{
			"Values": vals,
			"Chart":  chart,
			"Release": map[string]interface{}{
				"Name": *name, "Namespace": *namespace,
				"Service": "Helm", "IsInstall": !*upgrade,
				"IsUpgrade": *upgrade, "Revision": revision,
			},
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{
					"Version": "v1.29.0", "Major": "1", "Minor": "29",
					"GitVersion": "v1.29.0",
				},
				"APIVersions": []string{"v1", "apps/v1"},
			},
			"Template": map[string]interface{}{
				"Name":     tname,
				"BasePath": chartName + "/templates",
			},
			"Files": map[string]interface{}{},
		}
	}

	var out strings.Builder
	for _, n := range names {
		base := filepath.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		isNotes := base == "NOTES.txt"
		if isNotes != *notes {
			continue
		}
		var buf bytes.Buffer
		if err := r.tmpl.ExecuteTemplate(&buf, n, top(n)); err != nil {
			return err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			out.WriteString(text)
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", n,
			strings.TrimRight(text, "\n"))
	}
	_, err = os.Stdout.WriteString(out.String())
	return err
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}
