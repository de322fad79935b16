{{/*
Chart name.
*/}}
{{- define "quorum.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name (or fullnameOverride). It names the StatefulSet
and the headless Service, so pods are <fullname>-<i> and quorum-peerd's
NODE_PREFIX is "<fullname>-". At most 52 characters: Kubernetes puts the
StatefulSet name plus a hash in a 63-character label.
*/}}
{{- define "quorum.fullname" -}}
{{- $name := default .Release.Name .Values.fullnameOverride }}
{{- if gt (len $name) 52 }}
{{- fail (printf "fullname %q is longer than 52 characters: set fullnameOverride" $name) }}
{{- end }}
{{- $name }}
{{- end }}

{{- define "quorum.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quorum.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quorum.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "quorum.labels" -}}
helm.sh/chart: {{ include "quorum.chart" . }}
{{ include "quorum.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Peer host names are <prefix><i>.<domain>: the pods' DNS names under the
headless Service.
*/}}
{{- define "quorum.nodePrefix" -}}
{{- printf "%s-" (include "quorum.fullname" .) }}
{{- end }}

{{- define "quorum.nodeDomain" -}}
{{- printf "%s.%s.svc.cluster.local" (include "quorum.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "quorum.secretName" -}}
{{- if .Values.clusterSecret.existingSecret }}
{{- .Values.clusterSecret.existingSecret }}
{{- else }}
{{- printf "%s-cluster-secret" (include "quorum.fullname" .) }}
{{- end }}
{{- end }}

{{/*
geth is stopped first, then the TM, each with stopTimeout of grace: the pod
needs both plus some slack before the kubelet sends SIGKILL.
*/}}
{{- define "quorum.terminationGracePeriod" -}}
{{- add (mul 2 (int .Values.stopTimeout)) (int .Values.terminationGraceExtra) }}
{{- end }}

{{/*
Settings checked here so that a bad value fails at install time, not in a
crash-looping pod.
*/}}
{{- define "quorum.validate" -}}
{{- $n := int .Values.replicaCount }}
{{- if or (lt $n 1) (gt $n 1024) }}
{{- fail (printf "replicaCount must be 1..1024, not %v" .Values.replicaCount) }}
{{- end }}
{{- if not (has .Values.consensus (list "raft" "istanbul" "qbft")) }}
{{- fail (printf "consensus must be raft, istanbul or qbft, not %q" .Values.consensus) }}
{{- end }}
{{- if not (has .Values.privacy (list "auto" "tessera" "constellation" "none")) }}
{{- fail (printf "privacy must be auto, tessera, constellation or none, not %q" .Values.privacy) }}
{{- end }}
{{- if not (has .Values.addressMode (list "ip" "dns")) }}
{{- fail (printf "addressMode must be ip or dns, not %q" .Values.addressMode) }}
{{- end }}
{{- if not (has .Values.kdf (list "standard" "light")) }}
{{- fail (printf "kdf must be standard or light, not %q" .Values.kdf) }}
{{- end }}
{{- if lt (int .Values.terminationGraceExtra) 5 }}
{{- fail "terminationGraceExtra must be at least 5 seconds" }}
{{- end }}
{{- if not (has .Values.validators (list "all" "initial")) }}
{{- fail (printf "validators must be all or initial, not %q" .Values.validators) }}
{{- end }}
{{- $ra := .Values.replaceAfter }}
{{- if or (not (regexMatch "^[0-9]+$" (toString $ra))) (gt (int64 $ra) 604800) }}
{{- fail (printf "replaceAfter must be 0 to 604800 seconds, not %v" $ra) }}
{{- end }}
{{- with .Values.persistence.retentionPolicy }}
{{- range $k, $v := . }}
{{- if not (has $k (list "whenDeleted" "whenScaled")) }}
{{- fail (printf "persistence.retentionPolicy: unknown key %q (whenDeleted, whenScaled)" $k) }}
{{- end }}
{{- if not (has $v (list "Retain" "Delete")) }}
{{- fail (printf "persistence.retentionPolicy.%s must be Retain or Delete, not %q" $k $v) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
