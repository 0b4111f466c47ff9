// Shell completion scripts for `kubectl-<plugin>` run directly. Both ask the plugin itself
// (`kubectl-<plugin> __complete WORDS... CURRENT`, Cobra's protocol: candidates one per line, then
// `:<directive>`), so the candidates (commands, flags, object names from the server) are the same
// in bash, zsh and in kubectl's own completion of `kubectl <plugin> …` (kubectl ≥ 1.26 runs the
// `kubectl_complete-<plugin>` executable installed with the package).

/** Cobra's ShellCompDirectiveNoFileComp. */
export const COMPLETION_NO_FILES = 4;

function functionName(plugin: string): string {
  return `_kubectl_${plugin.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function bashCompletion(plugin: string): string {
  const fn = functionName(plugin);
  return `# bash completion for kubectl-${plugin}; load with: source <(kubectl-${plugin} completion bash)
${fn}() {
    local cur="\${COMP_WORDS[COMP_CWORD]}"
    local out
    out=$(kubectl-${plugin} __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return
    local candidates
    candidates=$(printf '%s\\n' "$out" | grep -v '^:')
    COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F ${fn} kubectl-${plugin}
`;
}

export function zshCompletion(plugin: string): string {
  const fn = functionName(plugin);
  return `#compdef kubectl-${plugin}
# zsh completion for kubectl-${plugin}; load with: source <(kubectl-${plugin} completion zsh)
${fn}() {
    local -a candidates
    local out
    out=$(kubectl-${plugin} __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null) || return
    candidates=(\${(f)"$(print -r -- "$out" | grep -v '^:')"})
    compadd -a candidates
}
if [ "$funcstack[1]" = "${fn}" ]; then
    ${fn} "$@"
else
    compdef ${fn} kubectl-${plugin}
fi
`;
}
