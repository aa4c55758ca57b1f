{{- /*
  Definitions shared by meshd's built-in injection templates; meshd prepends this file to each of them.
  Every helper takes the template data as its dot unless it says otherwise.
*/ -}}

{{- /* Names of the app containers (all but istio-proxy), as a comma list. */ -}}
{{- define "meshd.app-containers" -}}
{{- $apps := list -}}
{{- range .Spec.Containers }}{{ if ne .Name "istio-proxy" }}{{ $apps = append $apps .Name }}{{ end }}{{ end -}}
{{- join "," $apps -}}
{{- end -}}

{{- /* The proxy's resources as JSON: the resource annotations when any is set, else the values. */ -}}
{{- define "meshd.resources" -}}
{{- $ann := .ObjectMeta.Annotations -}}
{{- $resources := omitNil .Values.global.proxy.resources -}}
{{- $fromAnns := dict -}}
{{- range $name, $where := dict "proxyCPU" (list "requests" "cpu") "proxyMemory" (list "requests" "memory") "proxyCPULimit" (list "limits" "cpu") "proxyMemoryLimit" (list "limits" "memory") }}
  {{- $key := printf "sidecar.istio.io/%s" $name }}
  {{- if isset $ann $key }}
    {{- $group := get $fromAnns (index $where 0) | default dict }}
    {{- $_ := set $group (index $where 1) (index $ann $key) }}
    {{- $_ := set $fromAnns (index $where 0) $group }}
  {{- end }}
{{- end -}}
{{- if $fromAnns }}{{ $resources = $fromAnns }}{{ end -}}
{{- toJson $resources -}}
{{- end -}}

{{- /* The proxy image: a full image from the annotation or values, else the computed one. */ -}}
{{- define "meshd.proxy-image" -}}
{{- $img := annotation .ObjectMeta "sidecar.istio.io/proxyImage" .Values.global.proxy.image -}}
{{- ternary $img .ProxyImage (contains "/" $img) | toJson -}}
{{- end -}}

{{- /* Agent args shared by every proxy: domain and log levels. */ -}}
{{- define "meshd.agent-args" }}
    - --domain
    - {{ printf "$(POD_NAMESPACE).svc.%v" .Values.global.proxy.clusterDomain | toJson }}
    - {{ printf "--proxyLogLevel=%s" (annotation .ObjectMeta "sidecar.istio.io/logLevel" .Values.global.proxy.logLevel) | toJson }}
    - {{ printf "--proxyComponentLogLevel=%s" (annotation .ObjectMeta "sidecar.istio.io/componentLogLevel" .Values.global.proxy.componentLogLevel) | toJson }}
    - {{ printf "--log_output_level=%s" (annotation .ObjectMeta "sidecar.istio.io/agentLogLevel" .Values.global.logging.level) | toJson }}
{{- with .Values.global.sts.servicePort }}
    - {{ printf "--stsPort=%v" . | toJson }}
{{- end }}
{{- if .Values.global.logAsJson }}
    - --log_as_json
{{- end }}
{{- end }}

{{- /* Env naming the CA and the pod, first in every proxy's env. */ -}}
{{- define "meshd.env.identity" }}
{{- $g := .Values.global -}}
{{- $ca := $g.caAddress | default (printf "istiod%s.%s.svc:15012" (ternary "" (printf "-%s" .Values.revision) (eq .Values.revision "")) $g.istioNamespace) }}
    - {name: PILOT_CERT_PROVIDER, value: {{ toJson $g.pilotCertProvider }}}
    - {name: CA_ADDR, value: {{ toJson $ca }}}
{{- range list "POD_NAME:metadata.name" "POD_NAMESPACE:metadata.namespace" "INSTANCE_IP:status.podIP" "SERVICE_ACCOUNT:spec.serviceAccountName" "HOST_IP:status.hostIP" }}
{{- $kv := splitList ":" . }}
    - {name: {{ first $kv }}, valueFrom: {fieldRef: {fieldPath: {{ last $kv }}}}}
{{- end }}
{{- end }}

{{- /* PROXY_CONFIG and ISTIO_META_POD_PORTS (the latter in the exact text layout the agent has always had). */ -}}
{{- define "meshd.env.proxy-config" }}
{{- $ports := list -}}
{{- range .Spec.Containers }}{{ range .Ports }}{{ $ports = append $ports (structToJSON .) }}{{ end }}{{ end }}
    - {name: PROXY_CONFIG, value: {{ printf "%s\n" (protoToJSON .ProxyConfig) | toJson }}}
    - {name: ISTIO_META_POD_PORTS, value: {{ ternary (printf "[\n    %s\n]" (join "\n    ," $ports)) "[\n]" (gt (len $ports) 0) | toJson }}}
{{- end }}

{{- define "meshd.env.compliance" }}
{{- with .CompliancePolicy }}
    - {name: COMPLIANCE_POLICY, value: {{ toJson . }}}
{{- if eq . "fips-140-3" }}
    - {name: GODEBUG, value: "fips140=only"}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshd.env.cluster" }}
    - {name: ISTIO_META_CLUSTER_ID, value: {{ valueOrDefault .Values.global.multiCluster.clusterName "Kubernetes" | toJson }}}
    - {name: ISTIO_META_NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
{{- end }}

{{- /* Owner, mesh id and trust domain; the workload name comes first and differs per template. */ -}}
{{- define "meshd.env.owner-and-mesh" }}
{{- $td := valueOrDefault .MeshConfig.TrustDomain .Values.global.trustDomain -}}
{{- if and .TypeMeta.APIVersion .DeploymentMeta.Name }}
    - {name: ISTIO_META_OWNER, value: {{ printf "kubernetes://apis/%s/namespaces/%s/%ss/%s" .TypeMeta.APIVersion (valueOrDefault .DeploymentMeta.Namespace "default") (toLower .TypeMeta.Kind) .DeploymentMeta.Name | toJson }}}
{{- end }}
{{- if isset .ObjectMeta.Annotations "sidecar.istio.io/bootstrapOverride" }}
    - {name: ISTIO_BOOTSTRAP_OVERRIDE, value: /etc/istio/custom-bootstrap/custom_bootstrap.json}
{{- end }}
{{- with .Values.global.meshID | default $td }}
    - {name: ISTIO_META_MESH_ID, value: {{ toJson . }}}
{{- end }}
{{- with $td }}
    - {name: TRUST_DOMAIN, value: {{ toJson . }}}
{{- end }}
{{- end }}

{{- define "meshd.env.proxy-metadata" }}
{{- range $k, $v := .ProxyConfig.ProxyMetadata }}
    - {name: {{ toJson $k }}, value: {{ toJson $v }}}
{{- end }}
{{- end }}

{{- define "meshd.volumes.bootstrap" }}
{{- if isset .ObjectMeta.Annotations "sidecar.istio.io/bootstrapOverride" }}
  - {name: custom-bootstrap-volume, configMap: {name: {{ index .ObjectMeta.Annotations "sidecar.istio.io/bootstrapOverride" | toJson }}}}
{{- end }}
{{- end }}

{{- /* Volumes every proxy uses after its agent socket volume. */ -}}
{{- define "meshd.volumes.shared" }}
{{- $g := .Values.global }}
  - {name: istio-data, emptyDir: {}}
  - name: istio-podinfo
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
  - name: istio-token
    projected:
      sources:
      - serviceAccountToken: {path: istio-token, expirationSeconds: 43200, audience: {{ toJson $g.sds.token.aud }}}
{{- if eq $g.pilotCertProvider "istiod" }}
{{- if eq (.Values.pilot.env).ENABLE_CLUSTER_TRUST_BUNDLE_API true }}
  - name: istiod-ca-cert
    projected:
      sources:
      - clusterTrustBundle: {name: {{ printf "istio.io:istiod-ca:%s" ($g.trustBundleName | default "root-cert") | toJson }}, path: root-cert.pem}
{{- else }}
  - {name: istiod-ca-cert, configMap: {name: {{ $g.trustBundleName | default "istio-ca-root-cert" | toJson }}}}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshd.volumes.mtls-certs" }}
{{- if .Values.global.mountMtlsCerts }}
  - {name: istio-certs, secret: {optional: true, secretName: {{ printf "istio.%s" (.Spec.ServiceAccountName | default "default") | toJson }}}}
{{- end }}
{{- end }}

{{- /*
  userVolume / userVolumeMount: a JSON map (name -> item) or a JSON array of items. As in Istio's template,
  where `name: "<key>"` is followed by the item's own fields and the last key wins, an item's own name wins
  over its map key or array index. An item that is not a map fails the render, as it does in istiod.
*/ -}}
{{- define "meshd.user-item" }}
{{- $item := index . 1 }}
{{- if hasKey $item "name" }}{{ toJson $item }}
{{- else }}{{ set (deepCopy $item) "name" (toString (index . 0)) | toJson }}
{{- end }}
{{- end }}

{{- define "meshd.volumes.user" }}
{{- if isset .ObjectMeta.Annotations "sidecar.istio.io/userVolume" }}
{{- range $key, $volume := fromJSON (index .ObjectMeta.Annotations "sidecar.istio.io/userVolume") }}
  - {{ template "meshd.user-item" (list $key $volume) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshd.mounts.user" }}
{{- if isset .ObjectMeta.Annotations "sidecar.istio.io/userVolumeMount" }}
{{- range $key, $mount := fromJSON (index .ObjectMeta.Annotations "sidecar.istio.io/userVolumeMount") }}
    - {{ template "meshd.user-item" (list $key $mount) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshd.image-pull-secrets" }}
{{- with .Values.global.imagePullSecrets }}
  imagePullSecrets:
{{- range . }}
  - {name: {{ toJson . }}}
{{- end }}
{{- end }}
{{- end }}
