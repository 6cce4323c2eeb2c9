package docker

import (
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// relayFile is one file of the relay image: where it goes in the image and
// where its content is read from on this machine.
type relayFile struct {
	image, source string
	mode          int64
}

// relayFiles lists what the relay image needs to run the devenv binary at
// bin in a FROM scratch container: the binary as /devenv and, when it is
// linked dynamically (go build with cgo, the default wherever a C compiler
// is), its ELF interpreter at the path the binary names and every shared
// library it needs, directly or through another, found where this
// machine's dynamic loader finds them. libDirs are the image directories
// the libraries are in (the relay's LD_LIBRARY_PATH). arch is the engine's
// (GOARCH names).
func relayFiles(bin, arch string) (files []relayFile, libDirs []string, err error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a Linux executable (%v)", bin, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV}
	if m, ok := want[arch]; ok && f.Machine != m {
		return nil, nil, fmt.Errorf("%s is built for %s, the engine runs %s", bin, f.Machine, arch)
	}
	files = []relayFile{{image: "devenv", source: bin, mode: 0o755}}
	interp := interpreter(f)
	if interp == "" {
		return files, nil, nil // static
	}
	if _, err := os.Stat(interp); err != nil {
		return nil, nil, fmt.Errorf("%s is linked dynamically and its loader %s is not on this machine", bin, interp)
	}
	files = append(files, relayFile{image: strings.TrimPrefix(interp, "/"), source: interp, mode: 0o755})
	search := librarySearchPath(f)
	// The loader is loaded already: a library that names it (libc does)
	// is satisfied by the copy at the interpreter's path.
	seen := map[string]bool{path.Base(interp): true}
	type pending struct {
		lib    *elf.File
		search []string
	}
	queue := []pending{{f, search}}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		needed, err := cur.lib.ImportedLibraries()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: the libraries it needs: %v", bin, err)
		}
		for _, name := range needed {
			if seen[name] {
				continue
			}
			seen[name] = true
			dir, lib, err := findLibrary(name, cur.search, f.Machine, f.Class)
			if err != nil {
				return nil, nil, fmt.Errorf("%s needs %s, which is not on this machine's library path", bin, name)
			}
			defer lib.Close()
			files = append(files, relayFile{image: strings.TrimPrefix(path.Join(dir, name), "/"), source: filepath.Join(dir, name), mode: 0o755})
			if !slices.Contains(libDirs, dir) {
				libDirs = append(libDirs, dir)
			}
			// A library's own RUNPATH is searched for what it needs.
			queue = append(queue, pending{lib, append(runPath(lib), search...)})
		}
	}
	return files, libDirs, nil
}

func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return ""
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

// librarySearchPath is where the dynamic loader looks, in its order: the
// binary's RPATH (only without a RUNPATH), LD_LIBRARY_PATH, its RUNPATH,
// /etc/ld.so.conf (with its includes), then the default directories.
// $ORIGIN and other tokens are left out (a devenv build has none).
func librarySearchPath(f *elf.File) []string {
	var dirs []string
	runpath := runPath(f)
	if len(runpath) == 0 {
		if vs, err := f.DynString(elf.DT_RPATH); err == nil {
			for _, v := range vs {
				dirs = append(dirs, filepath.SplitList(v)...)
			}
		}
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))...)
	dirs = append(dirs, runpath...)
	dirs = append(dirs, ldSoConf("/etc/ld.so.conf", 0)...)
	dirs = append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
	return usableDirs(dirs)
}

func runPath(f *elf.File) []string {
	var dirs []string
	if vs, err := f.DynString(elf.DT_RUNPATH); err == nil {
		for _, v := range vs {
			dirs = append(dirs, filepath.SplitList(v)...)
		}
	}
	return usableDirs(dirs)
}

func usableDirs(dirs []string) []string {
	return slices.DeleteFunc(dirs, func(d string) bool { return !filepath.IsAbs(d) || strings.Contains(d, "$") })
}

// ldSoConf reads the directories of an ld.so.conf file and its includes:
// directories separated by blanks, commas or colons; `include` takes one
// or more glob patterns; hwcap lines are not directories.
func ldSoConf(file string, depth int) []string {
	b, err := os.ReadFile(file)
	if err != nil || depth > 4 {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ':' })
		switch {
		case len(fields) == 0, fields[0] == "hwcap":
		case fields[0] == "include":
			for _, pattern := range fields[1:] {
				if !filepath.IsAbs(pattern) {
					pattern = filepath.Join(filepath.Dir(file), pattern)
				}
				matches, _ := filepath.Glob(pattern)
				for _, m := range matches {
					out = append(out, ldSoConf(m, depth+1)...)
				}
			}
		default:
			out = append(out, fields...)
		}
	}
	return out
}

// findLibrary finds name in dirs as a library of the binary's machine and
// class (a 32-bit libc beside a 64-bit one is skipped, as the loader does).
func findLibrary(name string, dirs []string, m elf.Machine, c elf.Class) (string, *elf.File, error) {
	for _, dir := range dirs {
		lib, err := elf.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		if lib.Machine == m && lib.Class == c {
			return dir, lib, nil
		}
		lib.Close()
	}
	return "", nil, os.ErrNotExist
}
