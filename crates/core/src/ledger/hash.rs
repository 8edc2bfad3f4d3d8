//! Hashing a call's arguments: `sha256:` + SHA-256 of their canonical text.
//!
//! The canonical text is what makes the hash comparable: the same arguments must give the same
//! bytes in every language, whatever order a map happened to be built in. [`HashForm::Jcs`]
//! (RFC 8785, [`jcs`]) is the default and the one to use across languages;
//! [`HashForm::Python`] ([`pyjson`]) reproduces the public MYCA
//! implementation's `json.dumps(args, sort_keys=True, default=str)`, so its hashes can be
//! recomputed and matched. Both are pinned by `conformance/ledger/hash_vectors.json`.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::record::ArgsHash;
use super::{jcs, pyjson};

/// Which canonical text of the arguments is hashed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HashForm {
    /// RFC 8785 JSON Canonicalization Scheme: equal arguments hash equally in every language.
    #[default]
    Jcs,
    /// Python's `json.dumps(args, sort_keys=True, default=str)` (`", "`/`": "` separators,
    /// `ensure_ascii=True`): the public MYCA implementation's form.
    Python,
}

impl HashForm {
    /// Every form, the default first.
    pub const ALL: [HashForm; 2] = [HashForm::Jcs, HashForm::Python];

    /// The name: `jcs` or `python` (what `str::parse` parses).
    pub fn name(self) -> &'static str {
        match self {
            HashForm::Jcs => "jcs",
            HashForm::Python => "python",
        }
    }

    /// The canonical text of `args` in this form: the bytes that are hashed.
    ///
    /// ```
    /// use agentlog_core::ledger::HashForm;
    /// let args = serde_json::json!({"path": "é.py", "line": 3});
    /// assert_eq!(HashForm::Jcs.canonical(&args), r#"{"line":3,"path":"é.py"}"#);
    /// assert_eq!(HashForm::Python.canonical(&args), r#"{"line": 3, "path": "\u00e9.py"}"#);
    /// ```
    pub fn canonical(self, args: &Value) -> String {
        match self {
            HashForm::Jcs => jcs::to_string(args),
            HashForm::Python => pyjson::to_string(args),
        }
    }
}

closed_vocabulary!(HashForm, "hash form", name);

impl ArgsHash {
    /// The hash of `args` in canonical `form`.
    ///
    /// ```
    /// use agentlog_core::ledger::{ArgsHash, HashForm};
    /// let a = serde_json::json!({"b": 1, "a": [true, null]});
    /// let b: serde_json::Value = serde_json::from_str(r#"{ "a": [true, null], "b": 1.0 }"#)?;
    /// assert_eq!(ArgsHash::of(&a, HashForm::Jcs), ArgsHash::of(&b, HashForm::Jcs));
    /// // Python tells 1 from 1.0.
    /// assert_ne!(ArgsHash::of(&a, HashForm::Python), ArgsHash::of(&b, HashForm::Python));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn of(args: &Value, form: HashForm) -> ArgsHash {
        ArgsHash::of_canonical(form.canonical(args).as_bytes())
    }

    /// The hash of text that is already canonical.
    pub fn of_canonical(text: &[u8]) -> ArgsHash {
        ArgsHash::from_digest(Sha256::digest(text).into())
    }
}
