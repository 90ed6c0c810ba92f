# Tables (with minutes) and detail pages (with seconds).
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
DATETIME_FORMAT = "j F Y H:i:s"
