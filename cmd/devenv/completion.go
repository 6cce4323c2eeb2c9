package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// serviceCommands take service names as arguments; the value is how many
// (0: any number).
var serviceCommands = map[string]int{
	"up": 0, "down": 0, "stop": 0, "start": 0, "restart": 0, "ps": 0, "logs": 0, "kill": 0,
	"pause": 0, "unpause": 0, "rm": 0, "top": 0, "images": 0, "volumes": 0, "events": 0,
	"wait": 0, "create": 0, "stats": 0, "pull": 0, "health": 0, "exec": 1, "run": 1,
	"connect": 1, "port": 1,
}

func completionCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (commands, flags, this project's services, project names)",
		ArgsUsage: "bash|zsh|fish",
		UsageText: "source <(devenv completion bash)          # in ~/.bashrc\n   devenv completion zsh > \"${fpath[1]}/_devenv\"\n   devenv completion fish > ~/.config/fish/completions/devenv.fish",
		Action: func(c *cli.Context) error {
			script, ok := completionScripts[c.Args().First()]
			if c.NArg() != 1 || !ok {
				return usagef("completion: name a shell: bash, zsh or fish")
			}
			_, err := fmt.Fprint(a.stdout, script)
			return err
		},
	}
}

// completeCommand is what the scripts call: the words typed after devenv,
// the last one the word being completed; it prints the candidates, one a
// line ("__files" for the shell's own file names).
func completeCommand(a *app, app *cli.App) *cli.Command {
	return &cli.Command{
		Name: "__complete", Hidden: true, SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			for _, w := range a.complete(app, c.Args().Slice()) {
				fmt.Fprintln(a.stdout, w)
			}
			return nil
		},
	}
}

// complete finds the candidates for the last of words.
func (a *app) complete(app *cli.App, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	cmd, args := a.completionWords(app, before)
	// The value of the flag just before.
	if len(before) > 0 && !strings.Contains(before[len(before)-1], "=") {
		prev := before[len(before)-1]
		flags := app.Flags
		if cmd != nil {
			flags = append(slices.Clone(app.Flags), cmd.Flags...) // the command's own win (logs -f)
		}
		if takes := flagNames(flags)[prev]; takes {
			return filter(a.flagValues(prev), cur)
		}
	}
	if name, value, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(cur, "-") {
		var out []string
		for _, v := range filter(a.flagValues(name), value) {
			if v != "__files" {
				v = name + "=" + v
			}
			out = append(out, v)
		}
		return out
	}
	return a.completeWord(app, cmd, args, cur)
}

// completionGlobal keeps the globals that choose the project.
func (a *app) completionGlobal(name, value string) {
	switch name {
	case "-f", "--file":
		a.files = append(a.files, value)
	case "-p", "--project-name":
		a.projectName = value
	case "--profile":
		a.profiles = append(a.profiles, value)
	case "--env-file":
		a.envFiles = append(a.envFiles, value)
	case "--project-directory":
		a.projectDir = value
	case "--registry":
		a.registry = value
	}
}

// flagValues are the candidates for a flag's value.
func (a *app) flagValues(flag string) []string {
	switch flag {
	case "-p", "--project-name":
		return a.projectNames()
	case "-f", "--file", "--env-file", "--project-directory", "--registry", "-o", "--output", "--env-from-file":
		return []string{"__files"}
	case "--progress":
		return []string{"auto", "json", "plain", "quiet", "tty"}
	case "--profile":
		return a.profileNames()
	case "--pull":
		return []string{"always", "missing", "never"}
	case "--ansi":
		return []string{"auto", "never"}
	case "--attach", "--no-attach", "--exit-code-from":
		return a.serviceNames()
	}
	return nil
}

// serviceNames are the compose services of the project here (those of
// inactive profiles too) and its host services; none when it cannot load.
func (a *app) serviceNames() []string {
	p, err := a.projectWith(context.Background(), loading{Fast: true})
	if err != nil {
		return nil
	}
	names := append(p.Model.ServiceNames(), sortedKeys(p.Model.DisabledServices)...)
	names = append(names, sortedKeys(p.X.Host)...)
	sort.Strings(names)
	return slices.Compact(names)
}

func (a *app) profileNames() []string {
	p, err := a.projectWith(context.Background(), loading{Fast: true})
	if err != nil {
		return nil
	}
	var out []string
	for _, svc := range p.Model.AllServices() {
		out = append(out, svc.Profiles...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// projectNames are the registry's projects (read only, no engine call, so
// completion stays fast).
func (a *app) projectNames() []string {
	s, err := a.registryStore()
	if err != nil {
		return nil
	}
	reg, err := s.Load()
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range reg.Projects {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func visibleFlagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	sort.Strings(out)
	return out
}

func filter(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) || w == "__files" {
			out = append(out, w)
		}
	}
	return out
}

func suffixed(words []string, suffix string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w + suffix
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// completionScripts call devenv __complete with the words so far; the
// candidate "__files" hands over to the shell's file names.
var completionScripts = map[string]string{
	"bash": `# devenv completion for bash: source <(devenv completion bash)
_devenv() {
    local cur words cword w files=0
    if declare -F _get_comp_words_by_ref >/dev/null; then
        _get_comp_words_by_ref -n =: cur words cword   # --project-name=x stays one word
    else
        cur="${COMP_WORDS[COMP_CWORD]}" words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
    fi
    local -a cands=()
    while IFS= read -r w; do
        if [[ "$w" == __files ]]; then files=1; else cands+=("$w"); fi
    done < <(devenv __complete "${words[@]:1:cword}" 2>/dev/null)
    COMPREPLY=("${cands[@]}")
    if [[ "$cur" == -*=* ]]; then
        # readline replaces only what follows the =: drop the flag part.
        COMPREPLY=("${COMPREPLY[@]#"${cur%%=*}="}")
    fi
    if (( files )); then
        local -a fs
        mapfile -t fs < <(compgen -f -- "${cur#*=}")
        COMPREPLY+=("${fs[@]}")
        compopt -o filenames 2>/dev/null
    fi
    [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *: ]] && compopt -o nospace 2>/dev/null
    return 0
}
complete -F _devenv devenv
`,
	"zsh": `#compdef devenv
# devenv completion for zsh: devenv completion zsh > "${fpath[1]}/_devenv"
_devenv() {
    local -a cands
    local w files=0
    for w in ${(f)"$(devenv __complete "${(@)words[2,CURRENT]}" 2>/dev/null)"}; do
        if [[ "$w" == __files ]]; then files=1; else cands+=("$w"); fi
    done
    (( ${#cands} )) && compadd -Q -- ${cands[@]}
    (( files )) && _files
    return 0
}
if [[ "$funcstack[1]" = "_devenv" ]]; then _devenv "$@"; else compdef _devenv devenv; fi
`,
	"fish": `# devenv completion for fish: devenv completion fish > ~/.config/fish/completions/devenv.fish
function __devenv_complete
    set -l words (commandline -opc)[2..-1] (commandline -ct)
    for w in (devenv __complete $words 2>/dev/null)
        if test "$w" = __files
            __fish_complete_path (commandline -ct)
        else
            echo $w
        end
    end
end
complete -c devenv -f -a '(__devenv_complete)'
`,
}

// completionWords reads the words before the one being completed: the
// command, its arguments, and the globals that pick the project.
func (a *app) completionWords(app *cli.App, before []string) (*cli.Command, []string) {
	globals := flagNames(app.Flags)
	var cmd *cli.Command
	var args []string
	for i := 0; i < len(before); i++ {
		w := before[i]
		if strings.HasPrefix(w, "-") {
			name, value, hasValue := strings.Cut(w, "=")
			own := map[string]bool{}
			if cmd != nil {
				own = flagNames(cmd.Flags)
			}
			takes, ok := own[name]
			if !ok {
				takes = globals[name]
			}
			if takes && !hasValue && i+1 < len(before) {
				i++
				value = before[i]
			}
			if !ok {
				a.completionGlobal(name, value) // a global that picks the project
			}
			continue
		}
		if cmd == nil {
			cmd = app.Command(w)
			continue
		}
		args = append(args, w)
	}
	return cmd, args
}

// completeWord is the candidates for cur, a flag, a command, a service, a
// subcommand or a shell, by the command.
func (a *app) completeWord(app *cli.App, cmd *cli.Command, args []string, cur string) []string {
	switch {
	case strings.HasPrefix(cur, "-"):
		flags := app.Flags
		if cmd != nil {
			flags = cmd.Flags
		}
		return filter(visibleFlagNames(flags), cur)
	case cmd == nil:
		var names []string
		for _, c := range app.Commands {
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		return filter(names, cur)
	}
	if n, ok := serviceCommands[cmd.Name]; ok && (n == 0 || len(args) < n) {
		return filter(a.serviceNames(), cur)
	}
	if cmd.Name == "completion" && len(args) == 0 {
		return filter([]string{"bash", "fish", "zsh"}, cur)
	}
	if cmd.Name == "ports" && len(args) > 0 && args[0] == "assign" {
		return filter(a.serviceNames(), cur)
	}
	if cmd.Name == "ports" && len(args) == 0 {
		var subs []string
		for _, s := range cmd.Subcommands {
			subs = append(subs, s.Name)
		}
		return filter(subs, cur)
	}
	if cmd.Name == "cp" {
		return append(filter(suffixed(a.serviceNames(), ":"), cur), "__files")
	}
	return nil
}
