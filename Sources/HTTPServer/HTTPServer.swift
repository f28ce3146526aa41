// HTTPServer: placeholder until its work lands.
