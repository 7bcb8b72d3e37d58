/** A node of a `PendingList`: the links live on the node itself, so linking and unlinking allocate nothing. */
export interface ListNode<T> {
  prev: T | null;
  next: T | null;
}

/**
 * An intrusive doubly linked list: every operation is O(1), inserting after a node found by other means (a Map)
 * included. A node belongs to at most one list at a time; the list does not check that (a node appended twice, or
 * unlinked from a list it is not in, corrupts it), the caller keeps track.
 */
export class PendingList<T extends ListNode<T>> {
  private first: T | null = null;
  private last: T | null = null;

  get head(): T | null {
    return this.first;
  }

  get tail(): T | null {
    return this.last;
  }

  get isEmpty(): boolean {
    return this.first === null;
  }

  /** Links `node` at the end. */
  append(node: T): void {
    node.prev = this.last;
    node.next = null;
    if (this.last !== null) this.last.next = node;
    else this.first = node;
    this.last = node;
  }

  /** Links `node` at the start. */
  prepend(node: T): void {
    node.prev = null;
    node.next = this.first;
    if (this.first !== null) this.first.prev = node;
    else this.last = node;
    this.first = node;
  }

  /** Links `node` right after `target`, which must be in this list. */
  insertAfter(target: T, node: T): void {
    node.prev = target;
    node.next = target.next;
    if (target.next !== null) target.next.prev = node;
    else this.last = node;
    target.next = node;
  }

  /** Takes `node`, which must be in this list, out of it; its links are cleared. */
  unlink(node: T): void {
    if (node.prev !== null) node.prev.next = node.next;
    else this.first = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.last = node.prev;
    node.prev = node.next = null;
  }

  /** Forgets every node at once (their own links are left as they were: drop the nodes too). */
  clear(): void {
    this.first = this.last = null;
  }

  /** The nodes from head to tail (a copy: safe to unlink while iterating it). For tests and diagnostics. */
  toArray(): T[] {
    const nodes: T[] = [];
    for (let node = this.first; node !== null; node = node.next) nodes.push(node);
    return nodes;
  }
}
