//! A pickle opcode scanner (Python's `pickletools` format, protocols 0-5) that lists every global
//! a pickle names, without building or calling anything, so that a checkpoint naming a callable
//! outside the data types `torch.save` writes is refused before its tensors are read.

/// The globals (`module.name`) a pickle references, and the offset just past its `STOP`.
///
/// `STACK_GLOBAL` takes its module and name from the two strings pushed before it (directly or
/// through the memo), which is how every protocol-4+ writer emits it.
pub(crate) fn globals(bytes: &[u8]) -> Result<(Vec<String>, usize), String> {
    let mut scan = Scan {
        bytes,
        pos: 0,
        recent: [None, None],
        memo: std::collections::HashMap::new(),
    };
    let mut found = Vec::new();
    loop {
        let at = scan.pos;
        let op = scan
            .byte()
            .ok_or("the pickle ends before its STOP opcode")?;
        let mut pushed: Option<String> = None;
        let mut pushes = true;
        match op {
            b'.' => return Ok((found, scan.pos)),
            // Globals: `c` and `i` carry "module\nname\n"; 0x93 takes both from the stack.
            b'c' | b'i' => {
                let module = scan.line()?;
                let name = scan.line()?;
                found.push(format!("{module}.{name}"));
            }
            0x93 => match (&scan.recent[0], &scan.recent[1]) {
                (Some(module), Some(name)) => found.push(format!("{module}.{name}")),
                _ => return Err(format!("STACK_GLOBAL at byte {at} without two strings")),
            },
            // Strings, which STACK_GLOBAL may consume.
            0x8c => pushed = Some(scan.text(1)?),
            b'X' => pushed = Some(scan.text(4)?),
            0x8d => pushed = Some(scan.text(8)?),
            b'V' => pushed = Some(scan.line()?),
            // Memo traffic: remember strings, replay them on a get.
            b'q' | b'h' => {
                let index = u64::from(scan.take(1)?[0]);
                pushed = scan.memo_op(op == b'q', index);
                pushes = op == b'h';
            }
            b'r' | b'j' => {
                let index = u64::from(scan.u32()?);
                pushed = scan.memo_op(op == b'r', index);
                pushes = op == b'j';
            }
            b'p' | b'g' => {
                let index = scan
                    .line()?
                    .trim()
                    .parse::<u64>()
                    .map_err(|e| format!("memo index at byte {at}: {e}"))?;
                pushed = scan.memo_op(op == b'p', index);
                pushes = op == b'g';
            }
            0x94 => {
                let index = scan.memo.len() as u64;
                pushed = scan.memo_op(true, index);
                pushes = false;
            }
            // Opcodes without argument.
            b'(' | b'0' | b'1' | b'2' | b'N' | b'R' | b'b' | b'o' | b'l' | b']' | b'a' | b'e'
            | b'd' | b'}' | b's' | b'u' | b't' | b')' | b'Q' | 0x85 | 0x86 | 0x87 | 0x88 | 0x89
            | 0x81 | 0x92 | 0x8f | 0x90 | 0x91 | 0x97 | 0x98 => {}
            // Fixed-size arguments.
            b'K' | 0x80 | 0x82 => drop(scan.take(1)?),
            b'M' | 0x83 => drop(scan.take(2)?),
            b'J' | 0x84 => drop(scan.take(4)?),
            b'G' | 0x95 => drop(scan.take(8)?),
            // Length-prefixed payloads.
            b'U' | b'C' | 0x8a => drop(scan.sized(1)?),
            b'T' | b'B' | 0x8b => drop(scan.sized(4)?),
            0x8e | 0x96 => drop(scan.sized(8)?),
            // Newline-terminated arguments.
            b'I' | b'L' | b'F' | b'S' | b'P' => drop(scan.line()?),
            other => return Err(format!("unknown pickle opcode 0x{other:02x} at byte {at}")),
        }
        if pushes {
            scan.recent = [scan.recent[1].take(), pushed];
        }
    }
}

struct Scan<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The last two values pushed, when they were strings.
    recent: [Option<String>; 2],
    memo: std::collections::HashMap<u64, String>,
}

impl Scan<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or("the pickle ends inside an opcode argument")?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn sized(&mut self, width: usize) -> Result<&[u8], String> {
        let mut len = [0u8; 8];
        len[..width].copy_from_slice(self.take(width)?);
        let len = usize::try_from(u64::from_le_bytes(len)).map_err(|e| e.to_string())?;
        self.take(len)
    }

    fn text(&mut self, width: usize) -> Result<String, String> {
        Ok(String::from_utf8_lossy(self.sized(width)?).into_owned())
    }

    fn line(&mut self) -> Result<String, String> {
        let rest = &self.bytes[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("the pickle ends inside a text argument")?;
        self.pos += end + 1;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// A memo put stores the string just pushed (if it was one); a get returns what was stored.
    fn memo_op(&mut self, put: bool, index: u64) -> Option<String> {
        if put {
            if let Some(s) = &self.recent[1] {
                self.memo.insert(index, s.clone());
            }
            None
        } else {
            self.memo.get(&index).cloned()
        }
    }
}

/// Globals a PyTorch checkpoint may name: torch's tensor and storage rebuilders and the data
/// types found in the peers' metadata (numpy scalars, OrderedDicts, argparse namespaces, mmcv /
/// mmengine configs, pickled `torch.nn` modules in BigGAN-PyTorch's state file).
pub(crate) fn is_allowed(global: &str) -> bool {
    const MODULES: [&str; 10] = [
        "torch",
        "numpy",
        "collections",
        "_codecs",
        "argparse",
        "mmcv",
        "mmengine",
        "mmgen",
        "mmagic",
        "mmedit",
    ];
    const BUILTINS: [&str; 11] = [
        "set",
        "frozenset",
        "bytearray",
        "bytes",
        "slice",
        "complex",
        "range",
        "dict",
        "list",
        "tuple",
        "object",
    ];
    let (module, name) = global.rsplit_once('.').unwrap_or(("", global));
    let root = module.split('.').next().unwrap_or_default();
    match root {
        "builtins" | "__builtin__" => BUILTINS.contains(&name),
        "copyreg" | "copy_reg" => name == "_reconstructor",
        _ => MODULES.contains(&root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_2_globals_are_listed_and_the_end_found() {
        // pickle.dumps(collections.OrderedDict(), protocol=2) followed by a second pickle.
        let bytes = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.\x80\x02K\x01.";
        let (found, end) = globals(bytes).unwrap();
        assert_eq!(found, ["collections.OrderedDict"]);
        assert_eq!(end, 34);
        assert_eq!(globals(&bytes[end..]).unwrap(), (vec![], 5));
    }

    #[test]
    fn stack_global_reads_strings_also_through_the_memo() {
        // pickle.dumps(os.system, protocol=4) then a memo replay of both strings.
        let bytes = b"\x80\x04\x95\x15\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94h\x00h\x01\x93.";
        let (found, _) = globals(bytes).unwrap();
        assert_eq!(found, ["posix.system", "posix.system"]);
        assert!(!is_allowed("posix.system"));
        assert!(!is_allowed("builtins.eval"));
        assert!(is_allowed("torch._utils._rebuild_tensor_v2"));
        assert!(is_allowed("numpy.core.multiarray.scalar"));
        assert!(is_allowed("builtins.set"));
    }

    #[test]
    fn a_truncated_pickle_is_an_error() {
        assert!(globals(b"\x80\x02ccollections\nOrdered").is_err());
        assert!(globals(b"\x80\x02X\xff\x00\x00\x00ab").is_err());
    }
}
