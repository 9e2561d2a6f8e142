"""Checks FHIR R4 resources with an independent implementation (the fhir.resources package,
FHIR 4.0.1): structure, types, required elements and unknown elements. Reads one resource or a
list of resources as JSON on standard input; prints "ok", or what is wrong and exits 1."""

import json
import sys

from fhir.resources import construct_fhir_element


def main() -> int:
    data = json.load(sys.stdin)
    resources = data if isinstance(data, list) else [data]
    for i, resource in enumerate(resources):
        try:
            construct_fhir_element(resource["resourceType"], resource)
        except Exception as e:  # the package raises pydantic's and its own errors
            print(f"resource {i} ({resource.get('resourceType')}): {e}")
            return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
