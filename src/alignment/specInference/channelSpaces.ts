// Hidden channel spaces found while walking a graph: a union–find of spaces, each with the (tensor, axis) pairs
// whose units are its channels. Spaces joined by a residual Add, or sharing one tensor axis, get one permutation.
import type { AxisEntry } from '../permutationSpec';
import { SpecInferenceError } from './inferenceError';

/** One axis of one tensor that a space acts on, viewed as `(outer, n, inner)` like a grouped spec entry. */
export interface SpaceMember {
  readonly tensor: string;
  readonly axis: number;
  readonly outer: number;
  readonly inner: number;
  /** Size of the tensor's axis; the space has `axisSize / (outer * inner)` units here. */
  readonly axisSize: number;
}

export class ChannelSpaces {
  private readonly parent: number[] = [];
  private readonly names: string[] = [];
  private readonly fixedReasons = new Map<number, string>();
  private readonly members: { space: number; member: SpaceMember }[] = [];
  private readonly memberByAxis = new Map<string, { space: number; member: SpaceMember }>();

  /** Starts a new space; `name` is the layer that produces it, used to name its permutation. */
  create(name: string): number {
    this.parent.push(this.parent.length);
    this.names.push(name);
    return this.parent.length - 1;
  }

  find(space: number): number {
    let root = space;
    while (this.parent[root] !== root) root = this.parent[root];
    while (this.parent[space] !== root) {
      const next = this.parent[space];
      this.parent[space] = root;
      space = next;
    }
    return root;
  }

  /** Joins two spaces; the older one keeps its name. */
  union(x: number, y: number): number {
    const rootX = this.find(x);
    const rootY = this.find(y);
    if (rootX === rootY) return rootX;
    const [keep, drop] = rootX < rootY ? [rootX, rootY] : [rootY, rootX];
    this.parent[drop] = keep;
    const reason = this.fixedReasons.get(drop);
    if (reason !== undefined && !this.fixedReasons.has(keep)) this.fixedReasons.set(keep, reason);
    return keep;
  }

  /** Marks a space as not permutable, because it reaches a graph input or output. */
  fix(space: number, reason: string): void {
    const root = this.find(space);
    if (!this.fixedReasons.has(root)) this.fixedReasons.set(root, reason);
  }

  isFixed(space: number): boolean {
    return this.fixedReasons.has(this.find(space));
  }

  /** Records that `space` acts on a tensor axis. A (tensor, axis) pair claimed by two spaces joins them. */
  attach(space: number, member: SpaceMember): void {
    const key = `${member.tensor}\u0000${member.axis}`;
    const previous = this.memberByAxis.get(key);
    if (previous !== undefined) {
      if (previous.member.outer !== member.outer || previous.member.inner !== member.inner) {
        throw new SpecInferenceError(`tensor "${member.tensor}" axis ${member.axis} is used both with grouping ${previous.member.outer}×n×${previous.member.inner} and ${member.outer}×n×${member.inner}`);
      }
      this.union(previous.space, space);
      return;
    }
    const record = { space, member };
    this.memberByAxis.set(key, record);
    this.members.push(record);
  }

  /**
   * Returns the axis entries of every attached tensor: permutable spaces get one permutation name each (`P_` and the
   * producing layer's name), fixed spaces give `null`. Throws when the axes of one space disagree on its size.
   */
  axisEntries(ranks: ReadonlyMap<string, number>): { axes: Record<string, AxisEntry[]>; sizes: Map<string, number> } {
    const permutationNames = new Map<number, string>();
    const used = new Set<string>();
    const sizes = new Map<string, number>();
    const axes: Record<string, AxisEntry[]> = {};
    const firstMember = new Map<string, SpaceMember>();

    for (const { space, member } of this.members) {
      const rank = ranks.get(member.tensor);
      if (rank === undefined) throw new SpecInferenceError(`tensor "${member.tensor}" has no known rank`);
      axes[member.tensor] ??= new Array<AxisEntry>(rank).fill(null);
      const root = this.find(space);
      if (this.fixedReasons.has(root)) continue;

      let name = permutationNames.get(root);
      if (name === undefined) {
        name = uniqueName(`P_${this.names[root]}`, used);
        permutationNames.set(root, name);
      }
      const units = member.axisSize / (member.outer * member.inner);
      const known = sizes.get(name);
      if (!Number.isInteger(units)) {
        throw new SpecInferenceError(`tensor "${member.tensor}" axis ${member.axis} has size ${member.axisSize}, which ${member.outer}×n×${member.inner} does not divide`);
      }
      if (known !== undefined && known !== units) {
        const first = firstMember.get(name) as SpaceMember;
        throw new SpecInferenceError(`channel space ${name} has ${known} units on tensor "${first.tensor}" axis ${first.axis} but ${units} on tensor "${member.tensor}" axis ${member.axis}`);
      }
      sizes.set(name, units);
      if (!firstMember.has(name)) firstMember.set(name, member);
      const entry: AxisEntry = member.outer === 1 && member.inner === 1 ? name : { perm: name, outer: member.outer, inner: member.inner };
      axes[member.tensor][member.axis] = entry;
    }
    return { axes, sizes };
  }
}

function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let index = 2; used.has(name); index++) name = `${base}_${index}`;
  used.add(name);
  return name;
}
