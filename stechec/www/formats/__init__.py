"""The site's date formats per language (FORMAT_MODULE_PATH): English keeps its
unambiguous year-month-day, French writes dates the French way. Every other format
(numbers, input formats) is Django's own for the language. SHORT_DATETIME_FORMAT
uses only the letters Y m d H i: the lists' short_time filter turns them into
strftime's."""
