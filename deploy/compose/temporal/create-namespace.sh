#!/bin/sh
# Creates the namespace and registers the custom search attributes operators filter on in the Temporal UI.
# The list must match workflows/search-attributes.ts (a unit test compares them). Idempotent.
set -eu
namespace="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$namespace" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$namespace" --retention 30d
for attribute in \
  UpgradeStatus:Keyword \
  UpgradeAccountId:Keyword \
  UpgradeSourceSubscriptionId:Keyword \
  UpgradeTargetProductId:Keyword \
  UpgradeKind:Keyword \
  UpgradeDestinationType:Keyword \
  UpgradeDueDate:Datetime; do
  name="${attribute%%:*}"
  type="${attribute##*:}"
  temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$namespace" | grep -q "^ *$name " ||
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$namespace" --name "$name" --type "$type"
done
echo "Namespace $namespace and its search attributes are ready"
