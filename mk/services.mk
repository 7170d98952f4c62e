# Enclave services: sworn-nsm (NSM client, development NSM, attestation),
# sworn-eth (ephemeral Ethereum accounts) and sworn-egress (fetch through the
# host proxy).
# Their unit and integration tests run in `test-cargo`.

.PHONY: bench-services
bench-services: ## benchmarks: dev NSM attestation and parsing; egress fetch vs curl through SOCKS5
	$(CARGO) bench -p sworn-nsm --bench nsm
	$(CARGO) bench -p sworn-egress --bench fetch
