//! Redis's glob patterns (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes) for KEYS and PSUBSCRIBE.

/// Whether `s` matches `pat`, with Redis's `stringmatchlen` rules.
pub fn matches(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    // Backtracking point for the last `*`: (pattern index after it, string index it covers to).
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let step = if p < pat.len() {
            single(pat, p, s[i])
        } else {
            None
        };
        match step {
            Some(Step::Star) => {
                star = Some((p + 1, i));
                p += 1;
                continue;
            }
            Some(Step::Matched(next)) => {
                p = next;
                i += 1;
                continue;
            }
            None => {}
        }
        match star {
            Some((sp, si)) => {
                p = sp;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

enum Step {
    Star,
    /// Matched one byte; the pattern continues at this index.
    Matched(usize),
}

/// Try the pattern element at `p` against byte `c`.
fn single(pat: &[u8], p: usize, c: u8) -> Option<Step> {
    match pat[p] {
        b'*' => Some(Step::Star),
        b'?' => Some(Step::Matched(p + 1)),
        b'[' => class(pat, p + 1, c),
        b'\\' if p + 1 < pat.len() => (pat[p + 1] == c).then_some(Step::Matched(p + 2)),
        other => (other == c).then_some(Step::Matched(p + 1)),
    }
}

/// A `[...]` class starting after the bracket; an unclosed class runs to the pattern's end.
fn class(pat: &[u8], mut p: usize, c: u8) -> Option<Step> {
    let negate = pat.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut hit = false;
    while p < pat.len() && pat[p] != b']' {
        if pat[p] == b'\\' && p + 1 < pat.len() {
            hit |= pat[p + 1] == c;
            p += 2;
        } else if p + 2 < pat.len() && pat[p + 1] == b'-' && pat[p + 2] != b']' {
            let (lo, hi) = if pat[p] <= pat[p + 2] {
                (pat[p], pat[p + 2])
            } else {
                (pat[p + 2], pat[p])
            };
            hit |= (lo..=hi).contains(&c);
            p += 3;
        } else {
            hit |= pat[p] == c;
            p += 1;
        }
    }
    let next = if p < pat.len() { p + 1 } else { p };
    (hit != negate).then_some(Step::Matched(next))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches(b"hello.*", b"hello.world"));
        assert!(matches(b"h?llo", b"hallo"));
        assert!(!matches(b"h?llo", b"hllo"));
        assert!(matches(b"h[ae]llo", b"hello"));
        assert!(!matches(b"h[^e]llo", b"hello"));
        assert!(matches(b"h[a-b]llo", b"hbllo"));
        assert!(matches(b"*", b""));
        assert!(matches(b"a*b*c", b"axxbyyc"));
        assert!(!matches(b"a*b*c", b"axxbyy"));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(matches(b"player:*:online", b"player:12:online"));
    }
}
