"""Projection outputs in DynamoDB (AWS), the same interface as the SQLite projections store.

Invariant: a state is written only if the stored one is older (``attribute_not_exists(v) OR v < :v``),
so consumers of different shards, retried batches and out-of-order retries can never move a
stream's state backwards; rows are keyed upserts (the same fold gives the same row); documents
are the same sorted, compact JSON as on SQLite. A batch is not one transaction here (DynamoDB
transactions hold 100 items): the version condition is what keeps a partly written batch safe
to retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from chalicelib.projections.store import dumps
from chalicelib.stores import loads
from domain.projections.base import JSON, Row

INDEX = "by-time"


class DynamoDBProjectionStore:
    def __init__(self, table: str, *, host: str | None = None, region: str = "us-east-1", create: bool = False) -> None:
        resource = boto3.resource("dynamodb", endpoint_url=host, region_name=region)
        self.table = resource.Table(table)
        if create:
            try:
                resource.create_table(
                    TableName=table, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "part", "AttributeType": "S"},
                                          {"AttributeName": "t", "AttributeType": "S"}],
                    GlobalSecondaryIndexes=[{"IndexName": INDEX, "Projection": {"ProjectionType": "ALL"},
                                             "KeySchema": [{"AttributeName": "part", "KeyType": "HASH"},
                                                           {"AttributeName": "t", "KeyType": "RANGE"}]}])
                self.table.wait_until_exists()
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceInUseException":
                    raise

    # -- reading
    def checkpoint(self, projection: str) -> tuple[str, int]:
        item = self.table.get_item(Key={"pk": f"checkpoint#{projection}"}, ConsistentRead=True).get("Item")
        return (str(item["pos"]), int(item["events"])) if item else ("", 0)

    def state(self, projection: str, key: str) -> JSON | None:
        item = self.table.get_item(Key={"pk": f"state#{projection}#{key}"}, ConsistentRead=True).get("Item")
        return loads(item["doc"]) if item else None

    def _query(self, part: str, since_t: str = "", until_t: str = "", flt: Any = None) -> Iterator[dict[str, Any]]:
        cond = Key("part").eq(part)
        if since_t and until_t:
            cond = cond & Key("t").between(since_t, until_t)
        elif since_t:
            cond = cond & Key("t").gte(since_t)
        elif until_t:
            cond = cond & Key("t").lt(until_t)
        kwargs: dict[str, Any] = {"IndexName": INDEX, "KeyConditionExpression": cond}
        if flt is not None:
            kwargs["FilterExpression"] = flt
        while True:
            page = self.table.query(**kwargs)
            for item in page["Items"]:
                if not until_t or str(item["t"]) < until_t:  # between() is inclusive
                    yield item
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def states(self, projection: str, tenant: str | None = None, since_t: str = "", until_t: str = "",
               open_only: bool = False, after_pos: str = "") -> Iterator[JSON]:
        if tenant is None:
            raise ValueError("tenant: the DynamoDB projections store reads one tenant at a time")
        flt = None
        if open_only:
            flt = Attr("closed").eq(0)
        if after_pos:
            flt = Attr("pos").gt(after_pos) if flt is None else flt & Attr("pos").gt(after_pos)
        items = sorted(self._query(f"state#{projection}#{tenant}", since_t, until_t, flt),
                       key=lambda i: (str(i["t"]), str(i["key"])))
        for item in items:
            yield loads(item["doc"])

    def max_pos(self, projection: str, tenant: str) -> str:
        """The newest position among the tenant's states: one read of the head item ``commit`` keeps
        (the live view's ETag asks for it on every poll; querying every state would read them all)."""
        item = self.table.get_item(Key={"pk": f"head#{projection}#{tenant}"}, ConsistentRead=True).get("Item")
        if item is not None:
            return str(item["pos"])
        newest = max((str(i["pos"]) for i in self._query(f"state#{projection}#{tenant}")), default="")
        if newest:  # states written before heads existed: remember it once
            self._raise_head(projection, tenant, newest)
        return newest

    def _raise_head(self, projection: str, tenant: str, pos: str) -> None:
        """Move the head item forward to ``pos`` (never back: shards and retries commit out of order)."""
        try:
            self.table.put_item(Item={"pk": f"head#{projection}#{tenant}", "pos": pos},
                                ConditionExpression=Attr("pos").not_exists() | Attr("pos").lt(pos))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def rows(self, projection: str, tenant: str | None = None, since_t: str = "", until_t: str = "") -> list[JSON]:
        if tenant is None:
            raise ValueError("tenant: the DynamoDB projections store reads one tenant at a time")
        items = sorted(self._query(f"row#{projection}#{tenant}", since_t, until_t), key=lambda i: str(i["key"]))
        return [loads(i["doc"]) for i in items]

    # -- writing
    def commit(self, writes: Mapping[str, tuple[Sequence[tuple[str, JSON, bool, str]], Iterable[Row], str, int]],
               checkpoint: bool = True) -> None:
        for name, (states, rows, position, events) in writes.items():
            heads: dict[str, str] = {}
            for key, doc, closed, pos in states:
                tenant = str(doc.get("tenant", ""))
                heads[tenant] = max(heads.get(tenant, ""), pos)
                item = {"pk": f"state#{name}#{key}", "key": key, "part": f"state#{name}#{doc.get('tenant', '')}",
                        "t": str(doc.get("t", "")) or "-", "closed": int(closed), "pos": pos, "doc": dumps(doc)}
                version = doc.get("v")
                try:
                    if version is None:
                        self.table.put_item(Item=item)
                    else:
                        item["v"] = int(version)
                        self.table.put_item(Item=item, ConditionExpression=Attr("v").not_exists() | Attr("v").lt(
                            int(version)))
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise  # else a newer state is stored already: keep it
            for key, tenant, t, doc in rows:
                self.table.put_item(Item={"pk": f"row#{name}#{key}", "key": key, "part": f"row#{name}#{tenant}",
                                          "t": t or "-", "pos": position, "doc": dumps(doc)})
            for tenant, pos in heads.items():
                self._raise_head(name, tenant, pos)
            if not checkpoint:
                continue
            current, _ = self.checkpoint(name)
            if position > current:
                self.table.put_item(Item={"pk": f"checkpoint#{name}", "pos": position, "events": events})

    def reset(self, projection: str, tenant: str | None = None, since_t: str = "", until_t: str = "") -> None:
        """Forget outputs (one tenant's, or all by a scan) so a replay rebuilds them."""
        if tenant is None:
            keys = [i["pk"] for i in self._scan(projection)]
        else:
            keys = [i["pk"] for kind in ("state", "row")
                    for i in self._query(f"{kind}#{projection}#{tenant}", since_t, until_t)]
            if not since_t and not until_t:
                keys.append(f"head#{projection}#{tenant}")
        with self.table.batch_writer() as batch:
            for pk in keys:
                batch.delete_item(Key={"pk": pk})
            if tenant is None and not since_t and not until_t:
                batch.delete_item(Key={"pk": f"checkpoint#{projection}"})

    def _scan(self, projection: str) -> Iterator[dict[str, Any]]:
        flt = (Attr("pk").begins_with(f"state#{projection}#") | Attr("pk").begins_with(f"row#{projection}#")
               | Attr("pk").begins_with(f"head#{projection}#"))
        kwargs: dict[str, Any] = {"FilterExpression": flt}
        while True:
            page = self.table.scan(**kwargs)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def dump(self, projection: str, tenant: str | None = None) -> Iterator[bytes]:
        if tenant is None:
            raise ValueError("tenant: the DynamoDB projections store reads one tenant at a time")
        for kind in ("state", "row"):
            items = sorted(self._query(f"{kind}#{projection}#{tenant}"), key=lambda i: str(i["key"]))
            for i in items:
                yield f"{kind}s\t{i['key']}\t{i['doc']}\n".encode()

    def digest(self, projection: str, tenant: str | None = None) -> str:
        h = hashlib.sha256()
        for line in self.dump(projection, tenant):
            h.update(line)
        return h.hexdigest()
