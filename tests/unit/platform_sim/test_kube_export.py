"""export kubernetes: what the manifests say, strict schemas for three Kubernetes versions."""

import base64
import io
import stat

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils

from platform_sim.appfile import buildfile
from platform_sim.appfile.environment import Endpoint, Topology, instance_environment
from platform_sim.containers import images
from platform_sim.containers.export.kubernetes.files import FILES
from platform_sim.containers.export.kubernetes.manifests import (
    KubernetesExport,
    KubernetesRequest,
    build_objects,
)
from platform_sim.errors import UsageError
from platform_sim.output import Printer

APP = """
www:
    type: python
    environment: {GREETING: hello}
workers:
    type: python-worker
    instances: 2
db:
    type: postgresql
broker:
    type: rabbitmq
"""
# The three most recent minor versions whose schemas the package ships.
VERSIONS = sorted({kv_utils.major_minor(v) for v in kv_utils.all_versions()})[-3:]


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "dotcloud.yml").write_text(APP)
    return folder


def request_for(source, tmp_path, **options):
    return KubernetesRequest(folder=source, out=tmp_path / "out", **options)


def objects_for(source, tmp_path, **options):
    return build_objects("soup", buildfile.load(source), request_for(source, tmp_path, **options))


def find(objects, kind, name):
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def decoded(secret):
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def web_environment(objects):
    return decoded(find(objects, "Secret", "www-environment"))


VARIANTS = {
    "defaults": {},
    "everything": {
        "host": "soup.example.com",
        "tls_secret": "soup-tls",
        "storage_class": "fast-ssd",
        "image_prefix": "registry.example.com:5000/team/",
        "namespace": "prod",
        "scale": {"www": 3},
        "variables": {"DJANGO_SECRET_KEY": "k"},
    },
    "managed services": {
        "externals": ("db=postgresql://app:pw@pg.example.com:6543", "broker=amqp://u:p@mq:5672"),
    },
}


def test_the_three_most_recent_versions_are_checked():
    assert len(VERSIONS) == 3
    assert VERSIONS[-1] == kv_utils.major_minor(kv_utils.latest_version())


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_exported_object_validates_strictly(source, tmp_path, variant, version):
    written = KubernetesExport("soup", request_for(source, tmp_path, **VARIANTS[variant])).export()
    documents = [doc for path in written for doc in yaml.safe_load_all(path.read_text())]
    assert {doc["kind"] for doc in documents} >= {
        "Namespace", "Secret", "Deployment", "Service", "NetworkPolicy"
    }
    for doc in documents:
        assert kubernetes_validate.validate(doc, version, strict=True) == version


def test_schema_validation_catches_a_wrong_field(source, tmp_path):
    deployment = find(objects_for(source, tmp_path), "Deployment", "www")
    deployment["spec"]["replicaz"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_one_kind_per_file_in_apply_order(source, tmp_path):
    request = request_for(source, tmp_path, host="soup.example.com")
    written = KubernetesExport("soup", request).export()
    names = [path.name for path in written]
    assert names == sorted(names)
    assert names[0] == "00-namespace.yaml"
    for path in written:
        kinds = {doc["kind"] for doc in yaml.safe_load_all(path.read_text())}
        assert kinds <= set(FILES[path.name])


def test_files_are_owner_only(source, tmp_path):
    written = KubernetesExport("soup", request_for(source, tmp_path)).export()
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_environment_secret_is_what_a_push_writes_with_service_dns_names(source, tmp_path):
    objects = objects_for(
        source, tmp_path, host="soup.example.com", variables={"DJANGO_SECRET_KEY": "k"}
    )
    environment = web_environment(objects)
    db = decoded(find(objects, "Secret", "db-credentials"))
    broker = decoded(find(objects, "Secret", "broker-credentials"))
    parsed = buildfile.parse(APP)
    expected = instance_environment(
        Topology(
            "soup",
            parsed,
            {
                "db": Endpoint("db", 5432, "app", db["POSTGRES_APP_PASSWORD"], "app"),
                "broker": Endpoint("broker", 5672, "root", broker["RABBITMQ_DEFAULT_PASS"]),
            },
            {"www": "http://soup.example.com/"},
            {("www", 0): {"www": 8080}},
            {"DJANGO_SECRET_KEY": "k"},
        ),
        "www",
        0,
    )
    assert environment == expected
    assert environment["DOTCLOUD_DB_SQL_HOST"] == "db"
    assert environment["DOTCLOUD_BROKER_AMQP_HOST"] == "broker"
    assert environment["DJANGO_SECRET_KEY"] == "k"
    assert environment["GREETING"] == "hello"
    assert environment["TRUSTED_PROXIES"] == "2"  # the Ingress and the pod's nginx
    assert db["POSTGRES_USER"] == "root" and len(db["POSTGRES_PASSWORD"]) >= 24


def test_the_app_logs_in_as_its_own_role_never_as_the_superuser(source, tmp_path):
    KubernetesExport("soup", request_for(source, tmp_path)).export()
    objects = objects_for(source, tmp_path)
    db = decoded(find(objects, "Secret", "db-credentials"))
    assert db["POSTGRES_APP_USER"] == "app" and db["POSTGRES_APP_DB"] == "app"
    assert len(db["POSTGRES_APP_PASSWORD"]) >= 24
    assert db["POSTGRES_APP_PASSWORD"] != db["POSTGRES_PASSWORD"]
    for service in ("www", "workers"):
        environment = decoded(find(objects, "Secret", f"{service}-environment"))
        assert environment["DOTCLOUD_DB_SQL_LOGIN"] == "app"
        assert environment["DOTCLOUD_DB_SQL_PASSWORD"] == db["POSTGRES_APP_PASSWORD"]
        assert environment["DOTCLOUD_DB_SQL_DATABASE"] == "app"
        assert db["POSTGRES_PASSWORD"] not in str(environment)
    kept = decoded(find(objects_for(source, tmp_path), "Secret", "db-credentials"))
    assert kept == db  # an export into the same folder keeps both passwords


def test_environment_reaches_the_container_from_its_secret(source, tmp_path):
    pod = find(objects_for(source, tmp_path), "Deployment", "workers")["spec"]["template"]["spec"]
    assert pod["containers"][0]["envFrom"] == [{"secretRef": {"name": "workers-environment"}}]
    assert pod["enableServiceLinks"] is False


def test_deployments_roll_safely_and_stop_gracefully(source, tmp_path):
    objects = objects_for(source, tmp_path, scale={"www": 3})
    for name, replicas in (("www", 3), ("workers", 2)):
        deployment = find(objects, "Deployment", name)
        spec = deployment["spec"]
        assert spec["replicas"] == replicas
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        pod = spec["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= 60 + 30  # warm shutdown, then the camera
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        container = pod["containers"][0]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}  # none added
        # the image's account from the start, never root
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["fsGroup"] == 10001
        assert "ports" not in container  # Podman 4.3 would publish them on the host
        assert container["resources"]["requests"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe in container
        assert find(objects, "PodDisruptionBudget", name)["spec"]["maxUnavailable"] == 1


def test_web_probes_go_through_nginx_and_workers_check_their_programs(source, tmp_path):
    objects = objects_for(source, tmp_path)
    www = find(objects, "Deployment", "www")["spec"]["template"]["spec"]["containers"][0]
    assert www["readinessProbe"]["httpGet"]["port"] == 8080
    workers = find(objects, "Deployment", "workers")["spec"]["template"]["spec"]["containers"][0]
    assert workers["livenessProbe"]["exec"]["command"][0].endswith("/supervisorctl")


def test_no_disruption_budget_for_a_single_replica(source, tmp_path):
    objects = objects_for(source, tmp_path)
    budgets = {o["metadata"]["name"] for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert budgets == {"workers"}


def test_data_services_are_stateful_sets_with_a_claim_and_a_headless_service(source, tmp_path):
    objects = objects_for(source, tmp_path, storage_class="fast-ssd")
    for name, port in (("db", 5432), ("broker", 5672)):
        spec = find(objects, "StatefulSet", name)["spec"]
        assert spec["serviceName"] == name
        [claim] = spec["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "fast-ssd"
        container = spec["template"]["spec"]["containers"][0]
        assert container["envFrom"] == [{"secretRef": {"name": f"{name}-credentials"}}]
        assert "readinessProbe" in container
        service = find(objects, "Service", name)["spec"]
        assert service["clusterIP"] == "None"
        assert service["ports"][0]["port"] == port


def test_images_live_under_the_prefix(source, tmp_path):
    objects = objects_for(source, tmp_path, image_prefix="registry.example.com/team", tag="7")
    images = {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]["image"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }
    assert images == {
        name: f"registry.example.com/team/soup-{name}:7"
        for name in ("www", "workers", "db", "broker")
    }


def test_ingress_routes_the_host_with_tls(source, tmp_path):
    objects = objects_for(source, tmp_path, host="soup.example.com", tls_secret="soup-tls")
    spec = find(objects, "Ingress", "www")["spec"]
    assert spec["rules"][0]["host"] == "soup.example.com"
    assert spec["tls"] == [{"hosts": ["soup.example.com"], "secretName": "soup-tls"}]
    environment = web_environment(objects)
    assert environment["DOTCLOUD_WWW_HTTP_URL"] == "https://soup.example.com/"
    assert environment["DJANGO_BEHIND_HTTPS"] == "1"


def test_plain_http_does_not_trust_a_forwarded_scheme(source, tmp_path):
    environment = web_environment(objects_for(source, tmp_path, host="soup.example.com"))
    assert "DJANGO_BEHIND_HTTPS" not in environment
    objects = objects_for(
        source, tmp_path, host="a.example.com", tls_secret="t",
        variables={"DJANGO_BEHIND_HTTPS": "0"},
    )
    assert web_environment(objects)["DJANGO_BEHIND_HTTPS"] == "0"


def test_external_services_are_omitted_and_their_url_fills_the_variables(source, tmp_path):
    objects = objects_for(
        source, tmp_path, externals=("db=postgresql://app:s%40cret@pg.example.com:6543",)
    )
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("StatefulSet", "db") not in names and ("Service", "db") not in names
    assert ("Secret", "db-credentials") not in names
    assert ("StatefulSet", "broker") in names
    environment = web_environment(objects)
    assert environment["DOTCLOUD_DB_SQL_HOST"] == "pg.example.com"
    assert environment["DOTCLOUD_DB_SQL_PORT"] == "6543"
    assert environment["DOTCLOUD_DB_SQL_LOGIN"] == "app"
    assert environment["DOTCLOUD_DB_SQL_PASSWORD"] == "s@cret"
    assert "DOTCLOUD_DB_SQL_DATABASE" not in environment  # the app's own default


def test_a_new_export_into_the_same_folder_keeps_the_data_passwords(source, tmp_path):
    KubernetesExport("soup", request_for(source, tmp_path)).export()
    first = (tmp_path / "out" / "10-secrets.yaml").read_text()
    KubernetesExport("soup", request_for(source, tmp_path)).export()
    assert (tmp_path / "out" / "10-secrets.yaml").read_text() == first


def test_a_kind_no_longer_exported_loses_its_file(source, tmp_path):
    KubernetesExport("soup", request_for(source, tmp_path)).export()
    assert (tmp_path / "out" / "50-disruption-budgets.yaml").exists()
    KubernetesExport("soup", request_for(source, tmp_path, scale={"workers": 1})).export()
    assert not (tmp_path / "out" / "50-disruption-budgets.yaml").exists()


def test_default_tag_is_the_revision_image_build_gives(source, tmp_path):
    objects = objects_for(source, tmp_path, tag=None)
    with images.uploaded(source, Printer(io.StringIO())) as (_, revision):
        pass
    deployment = find(objects, "Deployment", "www")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == (
        images.image_name("soup", "www", revision)
    )


def test_every_service_targets_a_port_number_or_a_declared_container_port(source, tmp_path):
    objects = objects_for(source, tmp_path, host="soup.example.com")
    workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
    services = [o for o in objects if o["kind"] == "Service"]
    assert services
    for service in services:
        selected = service["spec"]["selector"].items()
        pods = [
            w["spec"]["template"]["spec"] for w in workloads
            if selected <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert pods, service["metadata"]["name"]
        declared = {
            port["name"] for pod in pods for container in pod["containers"]
            for port in container.get("ports", []) if "name" in port
        }
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            assert isinstance(target, int) or target in declared, (service["metadata"], port)


def test_a_changed_environment_changes_the_pod_template(source, tmp_path):
    def template(**variables):  # managed services, an admin password: nothing generated anew
        externals = VARIANTS["managed services"]["externals"]
        variables = {"MINESTRONE_ADMIN_PASSWORD": "admin-1", **variables}
        objects = objects_for(source, tmp_path, externals=externals, variables=variables)
        return find(objects, "Deployment", "www")["spec"]["template"]["metadata"]

    first = template(DJANGO_SECRET_KEY="one")
    assert template(DJANGO_SECRET_KEY="one") == first
    second = template(DJANGO_SECRET_KEY="two")
    assert second["annotations"] != first["annotations"]
    assert second["labels"] == first["labels"]  # the selector never changes
    assert template(DJANGO_SECRET_KEY="one", MINESTRONE_ADMIN_PASSWORD="admin-2") != first


def pod_specs(objects):
    return {
        o["metadata"]["name"]: o["spec"]["template"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }


def test_no_pod_gets_a_service_account_token(source, tmp_path):
    templates = pod_specs(objects_for(source, tmp_path))
    assert set(templates) == {"www", "workers", "db", "broker"}
    for template in templates.values():
        assert template["spec"]["automountServiceAccountToken"] is False


def admitted(policies, pod_labels, port, peer_namespace, peer_labels, namespace="soup"):
    """Whether NetworkPolicy semantics let a peer reach a pod's port (selected: allow-list)."""

    def selects(selector, labels):
        if not selector.get("matchLabels", {}).items() <= labels.items():
            return False
        for expression in selector.get("matchExpressions", []):
            assert expression["operator"] == "In"
            if labels.get(expression["key"]) not in expression["values"]:
                return False
        return True

    namespace_labels = {"kubernetes.io/metadata.name": peer_namespace}
    chosen = [p for p in policies if selects(p["spec"]["podSelector"], pod_labels)]
    assert chosen, pod_labels  # the default deny selects every pod
    for policy in chosen:
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for rule in policy["spec"].get("ingress", []):
            if port not in [p["port"] for p in rule["ports"]]:
                continue
            for peer in rule["from"]:
                in_namespace = (
                    selects(peer["namespaceSelector"], namespace_labels)
                    if "namespaceSelector" in peer
                    else peer_namespace == namespace
                )
                if in_namespace and selects(peer.get("podSelector", {}), peer_labels):
                    return True
    return False


def test_network_policies_admit_only_the_apps_pods_and_the_ingress(source, tmp_path):
    objects = objects_for(source, tmp_path)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    labels = {name: t["metadata"]["labels"] for name, t in pod_specs(objects).items()}
    stranger = {"app.kubernetes.io/name": "other", "app.kubernetes.io/instance": "soup"}
    other_app = {**labels["www"], "app.kubernetes.io/instance": "stew"}
    for data, port in (("db", 5432), ("broker", 5672)):
        assert admitted(policies, labels[data], port, "soup", labels["www"])
        assert admitted(policies, labels[data], port, "soup", labels["workers"])
        assert not admitted(policies, labels[data], port, "soup", stranger)
        assert not admitted(policies, labels[data], port, "soup", other_app)
        assert not admitted(policies, labels[data], port, "elsewhere", labels["www"])
        assert not admitted(policies, labels[data], port, "ingress-nginx", {})
        assert not admitted(policies, labels[data], 22, "soup", labels["www"])
    assert admitted(policies, labels["www"], 8080, "ingress-nginx", {"any": "pod"})
    for peer in (labels["workers"], labels["db"], stranger):
        assert not admitted(policies, labels["www"], 8080, "soup", peer)
    for pod in ("workers", "db", "broker"):
        assert not admitted(policies, labels[pod], 8080, "ingress-nginx", {})
    elsewhere = [o for o in objects_for(source, tmp_path, ingress_namespace="traefik")
                 if o["kind"] == "NetworkPolicy"]
    assert admitted(elsewhere, labels["www"], 8080, "traefik", {})
    assert not admitted(elsewhere, labels["www"], 8080, "ingress-nginx", {})


def test_a_managed_data_service_gets_no_policy(source, tmp_path):
    objects = objects_for(source, tmp_path, externals=VARIANTS["managed services"]["externals"])
    names = {o["metadata"]["name"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert names == {"default-deny", "www-from-ingress"}


def test_a_bad_ingress_namespace_is_refused_in_one_line(source, tmp_path):
    with pytest.raises(UsageError, match="--ingress-namespace") as caught:
        objects_for(source, tmp_path, ingress_namespace="Ingress_NGINX")
    assert "\n" not in str(caught.value)


def test_the_admin_password_is_a_secret_of_the_web_pods_kept_across_exports(source, tmp_path):
    written = KubernetesExport("soup", request_for(source, tmp_path)).export()
    objects = [doc for path in written for doc in yaml.safe_load_all(path.read_text())]
    password = decoded(find(objects, "Secret", "www-admin"))["MINESTRONE_ADMIN_PASSWORD"]
    assert len(password) >= 20
    www = find(objects, "Deployment", "www")["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "www-admin"}} in www["envFrom"]
    workers = find(objects, "Deployment", "workers")["spec"]["template"]["spec"]["containers"][0]
    assert workers["envFrom"] == [{"secretRef": {"name": "workers-environment"}}]
    for name in ("www-environment", "workers-environment"):
        assert "MINESTRONE_ADMIN_PASSWORD" not in decoded(find(objects, "Secret", name))
    again = KubernetesExport("soup", request_for(source, tmp_path)).export()
    kept = [doc for path in again for doc in yaml.safe_load_all(path.read_text())]
    assert decoded(find(kept, "Secret", "www-admin"))["MINESTRONE_ADMIN_PASSWORD"] == password
    given = objects_for(source, tmp_path, variables={"MINESTRONE_ADMIN_PASSWORD": "chosen-pw"})
    assert decoded(find(given, "Secret", "www-admin")) == {"MINESTRONE_ADMIN_PASSWORD": "chosen-pw"}
    assert "MINESTRONE_ADMIN_PASSWORD" not in web_environment(given)
