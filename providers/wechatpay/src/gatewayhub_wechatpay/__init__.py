"""gatewayhub's WeChat Pay API v3 adapter (direct merchant: Native and JSAPI)."""
