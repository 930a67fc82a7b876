"""The staff page: mobile web for the counter at /staff/ (log in, choose the store, scan or
type a member's code, stamp, redeem, void, adjust; `pages`), the store report at
/staff/report (`report`), and its JSON endpoints under /staff/api/ (`api`)."""
