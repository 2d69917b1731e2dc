package s3export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DirTarget writes objects as files below a local directory, in the same
// layout as in a bucket: the key's '/' separated parts become directories.
// A file is written under a hidden temporary name beside its final name
// and renamed when committed, so a file at its final name is always
// complete. It is safe for concurrent use.
type DirTarget struct {
	root string
}

// NewDirTarget returns a target that writes below dir, creating it if
// needed.
func NewDirTarget(dir string) (*DirTarget, error) {
	if dir == "" {
		return nil, errors.New("s3export: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("s3export: %w", err)
	}
	return &DirTarget{root: dir}, nil
}

func (t *DirTarget) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") {
		return "", fmt.Errorf("s3export: invalid key %q", key)
	}
	return filepath.Join(t.root, filepath.FromSlash(key)), nil
}

// tmpPath is where the file for path is written until it is committed:
// fixed per key, so a crashed attempt's leftover is replaced.
func tmpPath(path string) string {
	return filepath.Join(filepath.Dir(path), ".tmp."+filepath.Base(path))
}

// Create implements Target.
func (t *DirTarget) Create(_ context.Context, key string, _ Header) (Object, error) {
	p, err := t.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("s3export: %w", err)
	}
	f, err := os.Create(tmpPath(p))
	if err != nil {
		return nil, fmt.Errorf("s3export: %w", err)
	}
	return &dirObject{f: f, w: bufio.NewWriterSize(f, 64<<10), path: p}, nil
}

// Put implements Target.
func (t *DirTarget) Put(ctx context.Context, key string, h Header, data []byte) error {
	o, err := t.Create(ctx, key, h)
	if err != nil {
		return err
	}
	if _, err := o.Write(data); err != nil {
		_ = o.Abort(ctx)
		return err
	}
	_, err = o.Commit(ctx)
	return err
}

// Get implements Target.
func (t *DirTarget) Get(_ context.Context, key string) ([]byte, error) {
	p, err := t.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("s3export: %w", err)
	}
	return b, nil
}

// List implements Target.
func (t *DirTarget) List(_ context.Context, prefix string) ([]string, error) {
	dirKey, namePrefix := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey, namePrefix = prefix[:i+1], prefix[i+1:]
	}
	dir := t.root
	if dirKey != "" {
		p, err := t.path(dirKey)
		if err != nil {
			return nil, err
		}
		dir = p
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("s3export: %w", err)
	}
	var keys []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".tmp.") || !strings.HasPrefix(n, namePrefix) {
			continue
		}
		keys = append(keys, dirKey+n)
	}
	sort.Strings(keys)
	return keys, nil
}

type dirObject struct {
	f    *os.File
	w    *bufio.Writer
	path string
	size int64
}

func (o *dirObject) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.size += int64(n)
	return n, err
}

func (o *dirObject) Flush(context.Context) error { return nil }

func (o *dirObject) Commit(context.Context) (int64, error) {
	err := o.w.Flush()
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.path)
	}
	if err != nil {
		return 0, fmt.Errorf("s3export: %w", err)
	}
	return o.size, nil
}

func (o *dirObject) Abort(context.Context) error {
	_ = o.f.Close()
	if err := os.Remove(o.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("s3export: %w", err)
	}
	return nil
}
