"""The marketing console at /console/: members, RFM and the home figures, for marketers
and admins, behind the staff page's sign-in."""
