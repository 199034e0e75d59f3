//! One place level of every row (the agency, or a region level), as a slot: the level's
//! names numbered in the order they were first seen. PURE.
//!
//! A ranking by place counts into arrays as long as the level has names (20 provinces,
//! 800 cities), read by each row's slot; it builds no table from the string ids, whose
//! range is every name of every level.

use crate::model::hash::mix;

use super::{hash_table_bytes, NONE};

#[derive(Debug, Default, Clone)]
pub(super) struct Level {
    /// Per row: its slot.
    slots: Vec<u32>,
    /// Per slot: its name's string id.
    names: Vec<u32>,
    /// The slots, placed by a hash of their string id.
    find: hashbrown::HashTable<u32>,
}

/// Equal when the rows have the same slots, and the slots the same names.
impl PartialEq for Level {
    fn eq(&self, other: &Level) -> bool {
        self.slots == other.slots && self.names == other.names
    }
}

impl Level {
    fn hash(name: u32) -> u64 {
        mix(u64::from(name))
    }

    /// The slot of string id `name`, when a row has it.
    pub(super) fn slot_of(&self, name: u32) -> Option<u32> {
        let names = &self.names;
        self.find
            .find(Self::hash(name), |&s| names[s as usize] == name)
            .copied()
    }

    /// Adds a row with string id `name` at this level.
    pub(super) fn push(&mut self, name: u32) {
        let slot = match self.slot_of(name) {
            Some(slot) => slot,
            None => self.add(name),
        };
        self.slots.push(slot);
    }

    /// [`Level::push`] through `seen`, a table from string id to slot ([`NONE`]: none
    /// yet) that the caller keeps over many rows: a snapshot's load looks up no hash a row.
    pub(super) fn push_seen(&mut self, name: u32, seen: &mut Vec<u32>) {
        let at = name as usize;
        if at >= seen.len() {
            seen.resize(at + 1, NONE);
        }
        if seen[at] == NONE {
            seen[at] = self.slot_of(name).unwrap_or_else(|| self.add(name));
        }
        self.slots.push(seen[at]);
    }

    /// A new slot for `name`.
    fn add(&mut self, name: u32) -> u32 {
        let slot = self.names.len() as u32;
        self.names.push(name);
        let names = &self.names;
        self.find
            .insert_unique(Self::hash(name), slot, |&s| Self::hash(names[s as usize]));
        slot
    }

    /// Row `r`'s string id.
    pub(super) fn name(&self, r: usize) -> u32 {
        self.names[self.slots[r] as usize]
    }

    /// Every row's slot.
    pub(super) fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// Slot `s`'s string id.
    pub(super) fn name_of_slot(&self, s: u32) -> u32 {
        self.names[s as usize]
    }

    /// How many slots: one past the largest.
    pub(super) fn width(&self) -> usize {
        self.names.len()
    }

    /// The slot of `name`, or [`NONE`] (which no row has) when no row has it.
    pub(super) fn slot_or_none(&self, name: u32) -> u32 {
        self.slot_of(name).unwrap_or(NONE)
    }

    pub(super) fn reserve_exact(&mut self, rows: usize) {
        self.slots.reserve_exact(rows);
    }

    pub(super) fn heap_bytes(&self) -> usize {
        (self.slots.capacity() + self.names.capacity()) * 4
            + hash_table_bytes(self.find.capacity(), 4)
    }
}
