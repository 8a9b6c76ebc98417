"""Documents made from the data: neighbourhood profiles as HTML and PDF."""
