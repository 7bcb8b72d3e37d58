import { describe, expect, it } from '@jest/globals';
import { PendingList, type ListNode } from './pending-list.js';

class Node implements ListNode<Node> {
  prev: Node | null = null;
  next: Node | null = null;
  constructor(readonly name: string) {}
}

/** The names head to tail, and checked tail to head through `prev`, so a broken back link cannot hide. */
function names(list: PendingList<Node>): string[] {
  const forward = list.toArray().map((node) => node.name);
  const backward: string[] = [];
  for (let node = list.tail; node !== null; node = node.prev) backward.unshift(node.name);
  expect(backward).toEqual(forward);
  expect(list.head?.prev ?? null).toBeNull();
  expect(list.tail?.next ?? null).toBeNull();
  return forward;
}

function listOf(...labels: string[]): { list: PendingList<Node>; nodes: Record<string, Node> } {
  const list = new PendingList<Node>();
  const nodes: Record<string, Node> = {};
  for (const label of labels) {
    nodes[label] = new Node(label);
    list.append(nodes[label]);
  }
  return { list, nodes };
}

describe('PendingList', () => {
  it('starts empty', () => {
    const list = new PendingList<Node>();
    expect(list.isEmpty).toBe(true);
    expect(list.head).toBeNull();
    expect(list.tail).toBeNull();
    expect(names(list)).toEqual([]);
  });

  it('appends in order', () => {
    const { list, nodes } = listOf('a', 'b', 'c');
    expect(names(list)).toEqual(['a', 'b', 'c']);
    expect(list.isEmpty).toBe(false);
    expect(list.head).toBe(nodes.a);
    expect(list.tail).toBe(nodes.c);
  });

  it('prepends before the head, and a prepend to an empty list is also its tail', () => {
    const list = new PendingList<Node>();
    const b = new Node('b');
    list.prepend(b);
    expect(list.head).toBe(b);
    expect(list.tail).toBe(b);
    list.prepend(new Node('a'));
    list.append(new Node('c'));
    expect(names(list)).toEqual(['a', 'b', 'c']);
  });

  it('inserts after a node in the middle, and after the tail (which moves the tail)', () => {
    const { list, nodes } = listOf('a', 'c');
    list.insertAfter(nodes.a!, new Node('b'));
    expect(names(list)).toEqual(['a', 'b', 'c']);
    const d = new Node('d');
    list.insertAfter(nodes.c!, d);
    expect(names(list)).toEqual(['a', 'b', 'c', 'd']);
    expect(list.tail).toBe(d);
  });

  it('unlinks the head, the tail, a middle node and the last node, clearing their links', () => {
    const { list, nodes } = listOf('a', 'b', 'c', 'd');
    list.unlink(nodes.b!);
    expect(names(list)).toEqual(['a', 'c', 'd']);
    expect([nodes.b!.prev, nodes.b!.next]).toEqual([null, null]);
    list.unlink(nodes.a!);
    expect(names(list)).toEqual(['c', 'd']);
    expect(list.head).toBe(nodes.c);
    list.unlink(nodes.d!);
    expect(names(list)).toEqual(['c']);
    expect(list.tail).toBe(nodes.c);
    list.unlink(nodes.c!);
    expect(names(list)).toEqual([]);
    expect(list.isEmpty).toBe(true);
    expect(list.tail).toBeNull();
  });

  it('takes an unlinked node back anywhere (moving a node is unlink, then insert)', () => {
    const { list, nodes } = listOf('a', 'b', 'c');
    list.unlink(nodes.c!);
    list.prepend(nodes.c!);
    expect(names(list)).toEqual(['c', 'a', 'b']);
    list.unlink(nodes.c!);
    list.insertAfter(nodes.a!, nodes.c!);
    expect(names(list)).toEqual(['a', 'c', 'b']);
  });

  it('empties the list on clear, and is usable again afterwards', () => {
    const { list } = listOf('a', 'b');
    list.clear();
    expect(list.isEmpty).toBe(true);
    expect(names(list)).toEqual([]);
    list.append(new Node('x'));
    expect(names(list)).toEqual(['x']);
  });

  it('keeps its links consistent through many random operations (checked against an array)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const list = new PendingList<Node>();
    const model: Node[] = [];
    for (let n = 0; n < 2000; n++) {
      const op = random();
      const node = new Node(String(n));
      if (model.length === 0 || op < 0.3) {
        list.append(node);
        model.push(node);
      } else if (op < 0.45) {
        list.prepend(node);
        model.unshift(node);
      } else if (op < 0.7) {
        const at = Math.floor(random() * model.length);
        list.insertAfter(model[at]!, node);
        model.splice(at + 1, 0, node);
      } else {
        const at = Math.floor(random() * model.length);
        list.unlink(model[at]!);
        model.splice(at, 1);
      }
    }
    expect(model.length).toBeGreaterThan(100);
    expect(names(list)).toEqual(model.map((node) => node.name));
  });
});
