"""moto in server mode on loopback, for the AWS Batch runtime tests.

Usage: moto_server.py --host 127.0.0.1 --port 0 [--batch-setup FILE]

Prints `LISTENING <port>` once it serves. Batch jobs never start containers (moto's simple batch
backend marks them SUCCEEDED at once). With --batch-setup, it first creates through the AWS APIs an
IAM user with an access key allowed to do everything, a compute environment, a job queue and a job
definition, writes them as JSON to FILE, and then turns on moto's IAM authentication, so every
later request must carry a valid Signature Version 4 made with that key.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import boto3  # noqa: E402  (after the environment above)
import requests  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

REGION = "us-east-1"


def batch_setup(endpoint: str) -> dict:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    user = iam.create_user(UserName="git-rag-worker")["User"]
    iam.put_user_policy(
        UserName=user["UserName"],
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    role = iam.create_role(
        RoleName="git-rag-batch",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]

    batch = boto3.client("batch", region_name=REGION, endpoint_url=endpoint)
    env = batch.create_compute_environment(
        computeEnvironmentName="git-rag-env", type="UNMANAGED", state="ENABLED", serviceRole=role
    )["computeEnvironmentArn"]
    queue = batch.create_job_queue(
        jobQueueName="git-rag-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}],
    )["jobQueueArn"]
    definition = batch.register_job_definition(
        jobDefinitionName="git-rag-worker",
        type="container",
        containerProperties={
            "image": "git-rag:latest",
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
            "command": ["sync"],
        },
    )["jobDefinitionArn"]
    return {
        "region": REGION,
        "accessKeyId": key["AccessKeyId"],
        "secretAccessKey": key["SecretAccessKey"],
        "jobQueue": "git-rag-queue",
        "jobQueueArn": queue,
        "jobDefinition": "git-rag-worker",
        "jobDefinitionArn": definition,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--batch-setup")
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    port = server._server.server_port  # the port the OS chose for port 0
    endpoint = f"http://{args.host}:{port}"
    requests.post(f"{endpoint}/moto-api/config", json={"batch": {"use_docker": False}}, timeout=10)
    if args.batch_setup:
        setup = batch_setup(endpoint)
        with open(args.batch_setup, "w") as f:
            json.dump(setup, f)
        # From here on every request must be signed by a known key with a policy that allows it.
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
    print(f"LISTENING {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
