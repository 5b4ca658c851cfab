# Sourced by scripts/mutants.sh and scripts/orderings.sh (not run on its own).
#
# listed_survivors TRIAGE_FILE: the `[[survivors]]` of mistakes/mutants/PROJECT.toml as
# `file<TAB>mutant<TAB>kind` lines (TOML's `\"` and `\\` escapes read); nothing if the file does
# not exist.
listed_survivors() {
    [[ -f $1 ]] || return 0
    awk '
        function val(line) {
            sub(/^[^=]*= *"/, "", line); sub(/" *$/, "", line)
            gsub(/\\"/, "\"", line); gsub(/\\\\/, "\\", line)
            return line
        }
        function flush() {
            if (file != "" && mutant != "") print file "\t" mutant "\t" kind
            file = ""; mutant = ""; kind = ""
        }
        /^\[\[/ { flush() }
        /^file *=/ { file = val($0) }
        /^mutant *=/ { mutant = val($0) }
        /^kind *=/ { kind = val($0) }
        END { flush() }
    ' "$1"
}
