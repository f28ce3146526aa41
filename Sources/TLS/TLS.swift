// TLS: placeholder until its work lands.
