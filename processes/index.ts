/** The `rxwire/processes` entry point: lightweight processes (spawn, mailboxes, links, registry, supervisors, typed protocols). */
export {};
