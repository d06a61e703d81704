//! Column names compared as people write them.

/// Lower case, separators dropped: `Customer_ID`, `customer id` and `customerId` agree.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
