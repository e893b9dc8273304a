//! Cursor pagination shared by list endpoints: one page-size rule, one way to cut a page.

use crate::error::{Error, Result};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// The requested page size, checked: 1 to 200, 50 when not given.
pub fn page_size(limit: Option<u32>) -> Result<u32> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )))
    }
}

/// Cuts `items` (fetched with `limit + 1`) to one page and returns the cursor of the next page,
/// present only when there is one.
pub fn split_page<T, C>(
    mut items: Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> C,
) -> (Vec<T>, Option<C>) {
    if items.len() <= limit as usize {
        return (items, None);
    }
    items.truncate(limit as usize);
    let next = items.last().map(cursor);
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_cursor_exists_only_when_more_items_were_found() {
        assert_eq!(split_page(vec![1, 2, 3], 2, |n| *n), (vec![1, 2], Some(2)));
        assert_eq!(split_page(vec![1, 2], 2, |n| *n), (vec![1, 2], None));
        assert_eq!(page_size(None).unwrap(), 50);
        assert!(page_size(Some(0)).is_err() && page_size(Some(201)).is_err());
    }
}
