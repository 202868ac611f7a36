package kube

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"lab/lang"
)

// maxConfigMap is the most a ConfigMap holds (the API server's limit on an
// object is 1 MiB, metadata included); a plan's files are a few KB.
const maxConfigMap = 1000 * 1000

// plansVolume is the plan's files as the master sees them.
type plansVolume struct {
	cm       *corev1.ConfigMap
	items    []corev1.KeyToPath // each key's file under PlansDir
	planPath string             // the plan file's path in the master
}

// plansConfigMap holds every file the plan read (plan.Sources), laid out
// under PlansDir as they lie under their nearest common folder, so that
// the plan finds its workload by the same relative path.
func plansConfigMap(plan *lang.Plan, n Names) (plansVolume, error) {
	if _, ok := plan.Sources[plan.File]; !ok {
		return plansVolume{}, fmt.Errorf("the plan's own file %s is not among the files it read", plan.File)
	}
	rel, err := relativePaths(plan.Sources)
	if err != nil {
		return plansVolume{}, err
	}
	v := plansVolume{cm: &corev1.ConfigMap{ObjectMeta: meta(n.Plans, n, ComponentPlans)},
		planPath: path.Join(PlansDir, rel[plan.File])}
	files := make([]string, 0, len(rel))
	for f := range rel {
		files = append(files, f)
	}
	sort.Strings(files)
	keyOf := map[string]string{} // key → the file that has it
	total := 0
	for _, f := range files {
		key := configMapKey(rel[f])
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			return plansVolume{}, fmt.Errorf("%s: no ConfigMap key can be made of its name: %s", f, strings.Join(errs, "; "))
		}
		if other, dup := keyOf[key]; dup {
			return plansVolume{}, fmt.Errorf("%s and %s both make the ConfigMap key %q; rename one", other, f, key)
		}
		keyOf[key] = f
		total += len(plan.Sources[f])
		v.add(key, plan.Sources[f])
		v.items = append(v.items, corev1.KeyToPath{Key: key, Path: rel[f]})
	}
	if total > maxConfigMap {
		return plansVolume{}, fmt.Errorf("the plan's files hold %d bytes; a ConfigMap holds at most %d", total, maxConfigMap)
	}
	sort.Slice(v.items, func(i, j int) bool { return v.items[i].Path < v.items[j].Path })
	return v, nil
}

// add puts a file in the ConfigMap: as text, or as bytes if it is not UTF-8.
func (v plansVolume) add(key string, src []byte) {
	if utf8.Valid(src) {
		if v.cm.Data == nil {
			v.cm.Data = map[string]string{}
		}
		v.cm.Data[key] = string(src)
		return
	}
	if v.cm.BinaryData == nil {
		v.cm.BinaryData = map[string][]byte{}
	}
	v.cm.BinaryData[key] = src
}

// configMapKey is a relative path as a ConfigMap key, which holds no '/'.
func configMapKey(rel string) string { return strings.ReplaceAll(rel, "/", "_") }

// relativePaths gives each source's slash-separated path under the sources'
// nearest common folder: "smoke.hcl", "shop.workload.hcl" for plans/*. The
// folder is found among absolute paths, so that a workload in "../x" has
// one too; the paths under it do not depend on the working directory.
func relativePaths(sources map[string][]byte) (map[string]string, error) {
	abs := map[string]string{}
	root := ""
	for f := range sources {
		p, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		abs[f] = p
		if root == "" {
			root = filepath.Dir(p)
		}
		for !within(p, root) {
			root = filepath.Dir(root)
		}
	}
	out := map[string]string{}
	for f, p := range abs {
		r, err := filepath.Rel(root, p)
		if err != nil {
			return nil, err
		}
		out[f] = filepath.ToSlash(r)
	}
	return out, nil
}

// within tells whether path lies in dir.
func within(path, dir string) bool {
	r, err := filepath.Rel(dir, path)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

func meta(name string, n Names, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: n.Labels(component)}
}
