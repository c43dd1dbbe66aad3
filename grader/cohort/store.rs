//! The class's account results, by roster position. An audit writes each account's result to
//! an unnamed temporary file as soon as it is decided and keeps only where it lies, then every
//! output reads the results back one at a time in roster order: a class's memory does not grow
//! with its accounts' reports (16 bytes an account stay). A merge, or a test, holds them instead.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::AccountResult;
use crate::checks::Status;

/// Where one account's result is.
#[derive(Debug, Clone)]
enum Slot {
    /// Not decided yet (a shard's audit fills every slot before it ends).
    Empty,
    /// In the file, at this offset, this many bytes of JSON.
    Spilled { offset: u64, len: u32 },
    Held(Box<AccountResult>),
}

/// Every account's result, in roster order.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    slots: Vec<Slot>,
    /// The file results are written to, and its length so far (shared by clones of a report).
    file: Option<Arc<Mutex<(File, u64)>>>,
}

impl Accounts {
    /// Room for `n` accounts, written to a temporary file as they are put. When no temporary
    /// file can be made, they are held in memory instead (with a warning): slower to grow, never
    /// lost.
    pub fn spilled(n: usize) -> Accounts {
        let file = match tempfile::tempfile() {
            Ok(file) => Some(Arc::new(Mutex::new((file, 0)))),
            Err(e) => {
                eprintln!("cohort: no temporary file for the accounts' results ({e}); holding them in memory");
                None
            }
        };
        Accounts { slots: vec![Slot::Empty; n], file }
    }

    /// These results, held in memory.
    pub fn held(accounts: Vec<AccountResult>) -> Accounts {
        Accounts { slots: accounts.into_iter().map(|a| Slot::Held(Box::new(a))).collect(), file: None }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Puts the result of the account at roster position `i`, in place of any earlier one.
    pub fn put(&mut self, i: usize, account: AccountResult) {
        if i >= self.slots.len() {
            self.slots.resize(i + 1, Slot::Empty);
        }
        self.slots[i] = match &self.file {
            Some(file) => match write(file, &account) {
                Ok((offset, len)) => Slot::Spilled { offset, len },
                // A full disk: this one is kept in memory rather than lost.
                Err(e) => {
                    eprintln!("cohort: could not write {}'s result to the temporary file ({e}); holding it in memory", account.label);
                    Slot::Held(Box::new(account))
                }
            },
            None => Slot::Held(Box::new(account)),
        };
    }

    /// The same results, the one at slot `order[i]` now at slot `i` (`order` is a permutation
    /// of the slots: a merge stores each shard's accounts as it reads them).
    pub fn reordered(mut self, order: &[usize]) -> Accounts {
        let slots = order.iter().map(|&from| std::mem::replace(&mut self.slots[from], Slot::Empty)).collect();
        Accounts { slots, file: self.file }
    }

    /// The result at roster position `i`.
    pub fn get(&self, i: usize) -> AccountResult {
        match &self.slots[i] {
            Slot::Held(account) => (**account).clone(),
            Slot::Spilled { offset, len } => {
                let file = self.file.as_ref().expect("a spilled slot has its file");
                read(file, *offset, *len).unwrap_or_else(|e| unreadable(format!("its result could not be read back from the audit's temporary file: {e}")))
            }
            Slot::Empty => unreadable("the audit ended before this account was decided".into()),
        }
    }

    /// Every result, in roster order, read one at a time.
    pub fn iter(&self) -> impl Iterator<Item = AccountResult> + '_ {
        (0..self.slots.len()).map(|i| self.get(i))
    }

    /// The results, in memory (tests, and callers that need them all at once).
    pub fn to_vec(&self) -> Vec<AccountResult> {
        self.iter().collect()
    }

    /// The results, in memory, moving those held rather than copying them.
    pub fn into_vec(self) -> Vec<AccountResult> {
        match self.file {
            Some(_) => self.to_vec(),
            None => self.slots.into_iter().enumerate().map(|(i, slot)| match slot {
                Slot::Held(account) => *account,
                _ => unreadable(format!("the account at roster position {i} was never decided")),
            }).collect(),
        }
    }
}

/// Appends one result to the file; where it starts and how long it is.
fn write(file: &Mutex<(File, u64)>, account: &AccountResult) -> std::io::Result<(u64, u32)> {
    let bytes = serde_json::to_vec(account).map_err(std::io::Error::other)?;
    let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
    let mut guard = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (file, end) = &mut *guard;
    let offset = *end;
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(&bytes)?;
    *end += u64::from(len);
    Ok((offset, len))
}

fn read(file: &Mutex<(File, u64)>, offset: u64, len: u32) -> std::io::Result<AccountResult> {
    let mut bytes = vec![0; len as usize];
    {
        let mut guard = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.0.seek(SeekFrom::Start(offset))?;
        guard.0.read_exact(&mut bytes)?;
    }
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

/// An account whose result is missing: an error, never a pass.
fn unreadable(why: String) -> AccountResult {
    AccountResult {
        label: "?".into(),
        account_id: "?".into(),
        email: None,
        sis_id: None,
        status: Status::Error,
        error: Some(why),
        report: None,
        leftovers: Vec::new(),
        usd_per_hour: 0.0,
        retried: false,
        spend: None,
    }
}

impl Serialize for Accounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Accounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Accounts, D::Error> {
        Vec::<AccountResult>::deserialize(deserializer).map(Accounts::held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(label: &str, status: Status) -> AccountResult {
        AccountResult { label: label.into(), account_id: format!("{label}-id"), status, ..unreadable(String::new()) }
    }

    #[test]
    fn results_come_back_in_roster_order_whatever_order_they_were_put_in() {
        let mut store = Accounts::spilled(3);
        assert!(store.file.is_some(), "the test machine can make a temporary file");
        store.put(2, account("carol", Status::Fail));
        store.put(0, account("ana", Status::Pass));
        store.put(1, account("bob", Status::Error));
        // Asked again at the end: the second result replaces the first.
        store.put(2, AccountResult { retried: true, ..account("carol", Status::Pass) });
        let back = store.to_vec();
        let labels: Vec<&str> = back.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["ana", "bob", "carol"]);
        assert_eq!(back[2].status, Status::Pass);
        assert!(back[2].retried);
        assert!(store.slots.iter().all(|s| matches!(s, Slot::Spilled { .. })), "nothing is held in memory: {:?}", store.slots);
    }

    #[test]
    fn a_figure_reads_back_as_the_same_number() {
        // The cost of a 0.25 vCPU / 0.5 GB task: serde_json's default parser reads its shortest
        // form back one bit off, and a merge adds up figures read back from documents.
        let cost = 0.25 * 0.04048 + 0.5 * 0.004445;
        let mut store = Accounts::spilled(1);
        store.put(0, AccountResult { usd_per_hour: cost, ..account("ana", Status::Fail) });
        assert_eq!(store.get(0).usd_per_hour.to_bits(), cost.to_bits(), "{cost} came back as {}", store.get(0).usd_per_hour);
    }

    #[test]
    fn reordered_moves_each_result_to_its_new_slot() {
        let mut store = Accounts::spilled(3);
        for (i, label) in ["carol", "ana", "bob"].into_iter().enumerate() {
            store.put(i, account(label, Status::Pass));
        }
        let labels: Vec<String> = store.reordered(&[1, 2, 0]).iter().map(|a| a.label).collect();
        assert_eq!(labels, ["ana", "bob", "carol"]);
    }

    #[test]
    fn a_slot_never_filled_reads_as_an_error_not_a_pass() {
        let mut store = Accounts::spilled(2);
        store.put(0, account("ana", Status::Pass));
        let missing = store.get(1);
        assert_eq!(missing.status, Status::Error);
        assert!(missing.error.unwrap().contains("before this account was decided"));
    }

    #[test]
    fn it_serializes_as_the_list_of_accounts_and_reads_back_held() {
        let mut store = Accounts::spilled(2);
        store.put(0, account("ana", Status::Pass));
        store.put(1, account("bob", Status::Fail));
        let text = serde_json::to_string(&store).unwrap();
        let expected = serde_json::to_string(&vec![account("ana", Status::Pass), account("bob", Status::Fail)]).unwrap();
        assert_eq!(text, expected);
        let back: Accounts = serde_json::from_str(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back.file.is_none());
        assert_eq!(back.get(1).label, "bob");
    }
}
