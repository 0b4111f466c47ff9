// `--controllers` (kube-controller-manager's syntax): a comma-separated list where `*` enables
// every controller that is on by default, `name` enables one, `-name` disables one; the last
// word about a name wins over `*`. A controller named `<group>-<part>` (`storm-topology`) also
// answers to its group's name (`storm`, `-storm`); its own name wins over its group's.

/** Names the Storm, pvc-chonker and Hourglass controllers will use; accepted before they exist. */
export const RESERVED_CONTROLLER_NAMES = ['storm', 'pvcchonker', 'hourglass'] as const;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Splits and checks the flag value; throws with the offending entry. */
export function parseControllerList(value: string): string[] {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const entry of entries) {
    const name = entry.startsWith('-') ? entry.slice(1) : entry;
    if (entry !== '*' && !NAME.test(name)) throw new Error(`"${entry}" is not *, a controller name or -name`);
  }
  return entries;
}

/** The group a controller name belongs to: `storm` for `storm-topology`, the name itself otherwise. */
export function controllerGroup(name: string): string {
  return name.split('-')[0];
}

export function isControllerEnabled(name: string, entries: readonly string[]): boolean {
  for (const word of [name, controllerGroup(name)]) {
    if (entries.includes(`-${word}`)) return false;
    if (entries.includes(word)) return true;
  }
  return entries.includes('*');
}
