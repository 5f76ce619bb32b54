//! Paging of long lists: the page sizes sellers choose from and the offset they imply.

use serde::{Deserialize, Serialize};

/// The page sizes the inventory screen offers. 250 is the largest because Sync Now takes at
/// most 250 products: "select all on this page" must always fit in one Sync Now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum PageSize {
    #[default]
    TwentyFive,
    Fifty,
    Hundred,
    TwoFifty,
}

impl PageSize {
    /// Every size, smallest first.
    pub const ALL: [PageSize; 4] = [
        PageSize::TwentyFive,
        PageSize::Fifty,
        PageSize::Hundred,
        PageSize::TwoFifty,
    ];

    /// Rows on one page.
    pub fn rows(self) -> u32 {
        match self {
            PageSize::TwentyFive => 25,
            PageSize::Fifty => 50,
            PageSize::Hundred => 100,
            PageSize::TwoFifty => 250,
        }
    }
}

/// A page size other than 25, 50, 100 or 250.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("per_page must be 25, 50, 100 or 250, not {0}")]
pub struct BadPageSize(pub String);

impl TryFrom<u32> for PageSize {
    type Error = BadPageSize;
    fn try_from(n: u32) -> Result<Self, BadPageSize> {
        PageSize::ALL
            .into_iter()
            .find(|s| s.rows() == n)
            .ok_or_else(|| BadPageSize(n.to_string()))
    }
}

impl From<PageSize> for u32 {
    fn from(s: PageSize) -> u32 {
        s.rows()
    }
}

/// Which page of a list to show. Pages are numbered from 1, as sellers count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: PageSize,
}

/// A page number or size that cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("page must be a whole number from 1 up, not {0}")]
    BadPage(String),
    #[error(transparent)]
    BadSize(#[from] BadPageSize),
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: PageSize::default(),
        }
    }
}

impl PageRequest {
    /// Reads `page` and `per_page` as they come in a query string; absent means the default.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, PagingError> {
        let page = match page {
            None => 1,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(PagingError::BadPage(raw.to_owned())),
            },
        };
        let per_page = match per_page {
            None => PageSize::default(),
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .map_err(|_| BadPageSize(raw.to_owned()))
                .and_then(PageSize::try_from)?,
        };
        Ok(Self { page, per_page })
    }

    /// Rows to skip before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page.rows())
    }

    /// Rows on this page.
    pub fn limit(self) -> u32 {
        self.per_page.rows()
    }
}

/// The number of pages needed for `total` rows (at least one, so an empty list has a page 1).
pub fn page_count(total: u64, per_page: PageSize) -> u64 {
    total.div_ceil(u64::from(per_page.rows())).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_first_page_of_25() {
        let p = PageRequest::parse(None, None).unwrap();
        assert_eq!((p.page, p.limit(), p.offset()), (1, 25, 0));
    }

    #[test]
    fn page_three_of_250_skips_500_rows() {
        let p = PageRequest::parse(Some("3"), Some("250")).unwrap();
        assert_eq!((p.offset(), p.limit()), (500, 250));
    }

    #[test]
    fn only_the_offered_page_sizes_are_accepted() {
        for ok in ["25", "50", "100", "250"] {
            assert!(PageRequest::parse(None, Some(ok)).is_ok(), "{ok}");
        }
        for bad in ["0", "10", "251", "1000", "abc", "-25"] {
            let err = PageRequest::parse(None, Some(bad)).unwrap_err();
            assert!(err.to_string().contains("per_page"), "{bad}: {err}");
        }
    }

    #[test]
    fn page_zero_or_text_is_refused() {
        for bad in ["0", "-1", "x", ""] {
            let err = PageRequest::parse(Some(bad), None).unwrap_err();
            assert!(err.to_string().contains("page must be"), "{bad}");
        }
    }

    #[test]
    fn page_count_rounds_up_and_is_never_zero() {
        assert_eq!(page_count(0, PageSize::TwentyFive), 1);
        assert_eq!(page_count(25, PageSize::TwentyFive), 1);
        assert_eq!(page_count(26, PageSize::TwentyFive), 2);
        assert_eq!(page_count(1_200, PageSize::TwoFifty), 5);
    }

    #[test]
    fn page_size_travels_as_a_number() {
        assert_eq!(serde_json::to_string(&PageSize::Hundred).unwrap(), "100");
        assert!(serde_json::from_str::<PageSize>("30").is_err());
    }
}
