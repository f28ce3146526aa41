// WebhookApp: placeholder until its work lands.
