package main

// engineCell is an optional ENGINE column of a table: when shown, a cell
// and its tab ("local" for this machine's engine); else nothing.
type engineCell bool

func (show engineCell) header() string { return show.cell("ENGINE") }

func (show engineCell) of(engine string) string {
	if engine == "" {
		engine = "local"
	}
	return show.cell(engine)
}

func (show engineCell) cell(s string) string {
	if !show {
		return ""
	}
	return s + "\t"
}
