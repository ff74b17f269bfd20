//! Lists keyed by dense ids, stored back to back.

/// One list per key, for keys that are dense interned ids, in one allocation (a compressed
/// sparse row layout).
///
/// An event looks up the rules of one course, activity or badge. Here that is one read of
/// `start` and one contiguous run of `items`, instead of a hash probe and a pointer to chase
/// per list: with 100 000 rules the rule indexes no longer fit in the cache, and every pointer
/// followed is a likely miss.
#[derive(Debug, Clone)]
pub(crate) struct Lists<T> {
    /// `items[start[k]..start[k + 1]]` is the list of key `k`.
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            start: Vec::new(),
            items: Vec::new(),
        }
    }
}

impl<T> Lists<T> {
    /// Groups `(key, item)` pairs by key; each list keeps the pairs' order.
    pub(crate) fn from_pairs(mut pairs: Vec<(u32, T)>) -> Self {
        pairs.sort_by_key(|p| p.0); // stable: items of one key stay in order
        let keys = pairs.last().map_or(0, |p| p.0 as usize + 1);
        let mut start = vec![0u32; keys + 1];
        for (key, _) in &pairs {
            start[*key as usize + 1] += 1;
        }
        for k in 0..keys {
            start[k + 1] += start[k];
        }
        Lists {
            start,
            items: pairs.into_iter().map(|p| p.1).collect(),
        }
    }

    /// Every list's items, key after key.
    pub(crate) fn items_mut(&mut self) -> &mut [T] {
        &mut self.items
    }

    /// The list of `key` (empty for a key never given).
    pub(crate) fn get(&self, key: u32) -> &[T] {
        let k = key as usize;
        match (self.start.get(k), self.start.get(k + 1)) {
            (Some(&from), Some(&to)) => &self.items[from as usize..to as usize],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_order_and_answer_unknown_keys() {
        let lists = Lists::from_pairs(vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e')]);
        assert_eq!(lists.get(0), &['d']);
        assert_eq!(lists.get(1), &['b', 'e']);
        assert_eq!(lists.get(2), &[] as &[char]);
        assert_eq!(lists.get(3), &['a', 'c']);
        assert_eq!(lists.get(4), &[] as &[char]);
        assert_eq!(lists.get(u32::MAX), &[] as &[char]);
        assert_eq!(Lists::<u8>::from_pairs(Vec::new()).get(0), &[] as &[u8]);
    }
}
