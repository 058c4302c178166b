/* ember._kernels._cgraph: the hottest Python of every op, compiled: making a Tensor around an
 * ndarray (_tensor._wrap, _tensor._alias) and recording a node (autograd.graph._record).
 *
 * Unlike the kernels of src/ (plain C loaded with ctypes), this is a CPython extension: what it
 * saves is the interpreter's work, ~0.3 us of a _wrap and ~2 us of a _record, which is most of a
 * small op's overhead. It holds no logic of its own. Each function does exactly what the Python
 * function it replaces does, on the slots of the classes that ember gives it at import
 * (bind_tensor, bind_graph), and `record` hands every case but the common one to the Python
 * _record, unchanged: saved-tensor hooks, anomaly mode, a node log, saved names that are not
 * exactly the formula's, an input that is not a Tensor. Without this module (no compiler,
 * EMBER_KERNELS=0) the Python functions run; the tests run both.
 *
 * It also calls a few float loops of the kernels library (float_op) on ndarrays, through NumPy's
 * C API, where a ctypes call would cost more than the loop: which loop, and whether at all, is
 * the caller's choice.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#define CGRAPH_ABI 2

/* a slot of an instance, by the offset of its member descriptor */
#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

/* Tensor's slots (_tensor._FIELDS) */
enum { T_DATA, T_REQUIRES_GRAD, T_GRAD, T_GRAD_FN, T_OUTPUT_NR, T_VC, T_BASE, T_GRAD_ACC, T_HOOKS,
       T_COUNT };
static const char *const TENSOR_FIELDS[T_COUNT] = {
    "_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_vc", "_base", "_grad_acc",
    "_hooks"};
/* Node's slots */
enum { N_NEXT, N_SAVED, N_VERSIONS, N_RESULT_ALIAS, N_PRE_HOOKS, N_HOOKS, N_RETAINS, N_METADATA,
       N_ANOMALY, N_COUNT };
static const char *const NODE_FIELDS[N_COUNT] = {
    "_next", "_saved", "_versions", "_result_alias", "_pre_hooks", "_hooks", "_retains",
    "_metadata", "_anomaly"};

static Py_ssize_t t_off[T_COUNT], n_off[N_COUNT];
static PyTypeObject *tensor_type, *counter_type, *node_type;
static int counter_plain;   /* _VersionCounter has object's __new__ and __init__: allocate it */
static PyObject *grad_state, *anomaly, *accumulate_grad, *result_marker, *saved_hooks,
    *created_log, *py_record;
static PyObject *s_enabled, *s_shape, *s_dtype, *s_value, *s_saved_names_set, *zero;

/* The offset of the object slot `name` that `type` declares in its __slots__, or -1 with an
 * exception set. */
static Py_ssize_t slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *d = PyDict_GetItemString(type->tp_dict, name);     /* borrowed */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", type->tp_name, name);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", type->tp_name, name);
        return -1;
    }
    return m->offset;
}

static PyObject *new_counter(void)
{
    if (counter_plain)
        return counter_type->tp_alloc(counter_type, 0);
    return PyObject_CallNoArgs((PyObject *)counter_type);
}

/* A Tensor around `data` (_tensor._wrap); `counter` (borrowed) shared, or NULL for a new one. */
static PyObject *new_tensor(PyObject *data, PyObject *requires_grad, PyObject *counter)
{
    PyObject *t = tensor_type->tp_alloc(tensor_type, 0);
    if (t == NULL)
        return NULL;
    if (counter != NULL) {
        Py_INCREF(counter);
    } else if ((counter = new_counter()) == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    SLOT(t, t_off[T_DATA]) = Py_NewRef(data);
    SLOT(t, t_off[T_REQUIRES_GRAD]) = Py_NewRef(requires_grad);
    SLOT(t, t_off[T_GRAD]) = Py_NewRef(Py_None);
    SLOT(t, t_off[T_GRAD_FN]) = Py_NewRef(Py_None);
    SLOT(t, t_off[T_OUTPUT_NR]) = Py_NewRef(zero);
    SLOT(t, t_off[T_VC]) = counter;
    SLOT(t, t_off[T_BASE]) = Py_NewRef(Py_None);
    SLOT(t, t_off[T_GRAD_ACC]) = Py_NewRef(Py_None);
    SLOT(t, t_off[T_HOOKS]) = Py_NewRef(Py_None);
    return t;
}

/* Whether `names` (a tuple of str) is exactly `expected`, in order; else a ValueError: this
 * file must set every slot that the Python class has. */
static int same_fields(PyObject *names, const char *const *expected, int n, const char *what)
{
    int ok = PyTuple_Check(names) && PyTuple_GET_SIZE(names) == n;
    for (int i = 0; ok && i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(names, i);
        ok = PyUnicode_Check(s) && PyUnicode_CompareWithASCIIString(s, expected[i]) == 0;
    }
    if (!ok)
        PyErr_Format(PyExc_ValueError, "%s's slots are not those cgraph.c sets", what);
    return ok;
}

/* bind_tensor(Tensor, _VersionCounter, fields): read Tensor's slot offsets; `fields` is
 * _tensor._FIELDS. */
static PyObject *bind_tensor(PyObject *self, PyObject *args)
{
    PyTypeObject *tt, *ct;
    PyObject *fields;
    if (!PyArg_ParseTuple(args, "O!O!O:bind_tensor", &PyType_Type, &tt, &PyType_Type, &ct,
                          &fields))
        return NULL;
    if (!same_fields(fields, TENSOR_FIELDS, T_COUNT, "Tensor"))
        return NULL;
    for (int i = 0; i < T_COUNT; i++)
        if ((t_off[i] = slot_offset(tt, TENSOR_FIELDS[i])) < 0)
            return NULL;
    Py_XSETREF(tensor_type, (PyTypeObject *)Py_NewRef(tt));
    Py_XSETREF(counter_type, (PyTypeObject *)Py_NewRef(ct));
    counter_plain = ct->tp_new == PyBaseObject_Type.tp_new &&
                    ct->tp_init == PyBaseObject_Type.tp_init;
    Py_RETURN_NONE;
}

/* bind_graph(Node, fields, _State, _Anomaly, AccumulateGrad, _RESULT, _SAVED_HOOKS,
 * _CREATED, _record): what record reads, and the Python _record it hands the other cases to;
 * `fields` is Node's slots but __weakref__. */
static PyObject *bind_graph(PyObject *self, PyObject *args)
{
    PyTypeObject *nt;
    PyObject *fields, *st, *an, *acc, *res, *hooks, *log, *rec;
    if (!PyArg_ParseTuple(args, "O!OOOOOO!O!O:bind_graph", &PyType_Type, &nt, &fields, &st, &an,
                          &acc, &res, &PyList_Type, &hooks, &PyList_Type, &log, &rec))
        return NULL;
    if (!same_fields(fields, NODE_FIELDS, N_COUNT, "Node"))
        return NULL;
    if (tensor_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind_tensor first");
        return NULL;
    }
    if (PyList_GET_SIZE(log) != 1) {
        PyErr_SetString(PyExc_ValueError, "_CREATED holds one entry");
        return NULL;
    }
    for (int i = 0; i < N_COUNT; i++)
        if ((n_off[i] = slot_offset(nt, NODE_FIELDS[i])) < 0)
            return NULL;
    Py_XSETREF(node_type, (PyTypeObject *)Py_NewRef(nt));
    Py_XSETREF(grad_state, Py_NewRef(st));
    Py_XSETREF(anomaly, Py_NewRef(an));
    Py_XSETREF(accumulate_grad, Py_NewRef(acc));
    Py_XSETREF(result_marker, Py_NewRef(res));
    Py_XSETREF(saved_hooks, Py_NewRef(hooks));
    Py_XSETREF(created_log, Py_NewRef(log));
    Py_XSETREF(py_record, Py_NewRef(rec));
    Py_RETURN_NONE;
}

/* wrap(data, requires_grad=False): _tensor._wrap */
static PyObject *wrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *rg = Py_False;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw < 1 || nargs + nkw > 2 || nargs < 1 ||
        (nkw && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "requires_grad"))) {
        PyErr_SetString(PyExc_TypeError, "_wrap(data, requires_grad=False)");
        return NULL;
    }
    if (nargs + nkw == 2)
        rg = args[1];
    return new_tensor(args[0], rg, NULL);
}

/* alias(t): _tensor._alias, a plain tensor over t's array sharing its version counter */
static PyObject *alias(PyObject *self, PyObject *t)
{
    PyObject *data, *counter, *a;
    if (PyObject_TypeCheck(t, tensor_type)) {
        data = SLOT(t, t_off[T_DATA]);
        counter = SLOT(t, t_off[T_VC]);
        if (data == NULL || counter == NULL)
            return PyErr_Format(PyExc_AttributeError, "tensor without _data or _vc");
        return new_tensor(data, Py_False, counter);
    }
    if ((data = PyObject_GetAttrString(t, "_data")) == NULL)
        return NULL;
    if ((counter = PyObject_GetAttrString(t, "_vc")) == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    a = new_tensor(data, Py_False, counter);
    Py_DECREF(data);
    Py_DECREF(counter);
    return a;
}

static int flag(PyObject *owner, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(owner, name);
    if (v == NULL)
        return -1;
    int r = v == Py_True ? 1 : v == Py_False ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

static int truth(PyObject *v)
{
    return v == Py_True ? 1 : v == Py_False ? 0 : PyObject_IsTrue(v);
}

/* The AccumulateGrad node of leaf t (graph._edge's work): its live one, or a new one that t
 * then refers to weakly. A new reference. */
static PyObject *leaf_node(PyObject *t)
{
    PyObject *ref = SLOT(t, t_off[T_GRAD_ACC]), *fn = NULL;
    if (ref != Py_None) {
        if (PyWeakref_CheckRef(ref)) {
#if PY_VERSION_HEX >= 0x030D0000
            if (PyWeakref_GetRef(ref, &fn) < 0)
                return NULL;
#else
            fn = Py_NewRef(PyWeakref_GET_OBJECT(ref));
#endif
        } else if ((fn = PyObject_CallNoArgs(ref)) == NULL) {
            return NULL;
        }
        if (fn == Py_None)
            Py_CLEAR(fn);
    }
    if (fn != NULL)
        return fn;
    if ((fn = PyObject_CallOneArg(accumulate_grad, t)) == NULL)
        return NULL;
    PyObject *w = PyWeakref_NewRef(fn, NULL);
    if (w == NULL) {
        Py_DECREF(fn);
        return NULL;
    }
    Py_XSETREF(SLOT(t, t_off[T_GRAD_ACC]), w);
    return fn;
}

/* The edge of input t that requires grad: (node, output_nr, shape, dtype). */
static PyObject *edge(PyObject *t)
{
    PyObject *d = SLOT(t, t_off[T_DATA]), *fn = SLOT(t, t_off[T_GRAD_FN]), *nr;
    if (fn != Py_None) {
        Py_INCREF(fn);
        nr = Py_NewRef(SLOT(t, t_off[T_OUTPUT_NR]));
    } else {
        if ((fn = leaf_node(t)) == NULL)
            return NULL;
        nr = Py_NewRef(zero);
    }
    PyObject *shape = PyObject_GetAttr(d, s_shape);
    PyObject *dtype = shape ? PyObject_GetAttr(d, s_dtype) : NULL;
    if (dtype == NULL) {
        Py_DECREF(fn);
        Py_DECREF(nr);
        Py_XDECREF(shape);
        return NULL;
    }
    PyObject *e = PyTuple_New(4);
    if (e == NULL) {
        Py_DECREF(fn);
        Py_DECREF(nr);
        Py_DECREF(shape);
        Py_DECREF(dtype);
        return NULL;
    }
    PyTuple_SET_ITEM(e, 0, fn);
    PyTuple_SET_ITEM(e, 1, nr);
    PyTuple_SET_ITEM(e, 2, shape);
    PyTuple_SET_ITEM(e, 3, dtype);
    return e;
}

/* Whether the Python _record must take this call, once some input requires grad: a node class
 * that is not Node's, saved names other than the formula's exactly, and the modes that do more
 * than record (saved-tensor hooks, anomaly mode, a log of created nodes). -1 on an error. */
static int needs_python(PyObject *op, PyObject *kwnames)
{
    if (!PyType_Check(op) || !PyType_IsSubtype((PyTypeObject *)op, node_type))
        return 1;
    if (PyList_GET_SIZE(saved_hooks) || PyList_GET_ITEM(created_log, 0) != Py_None)
        return 1;
    int r = flag(anomaly, s_enabled);
    if (r != 0)
        return r;
    PyObject *names = PyObject_GetAttr(op, s_saved_names_set);
    if (names == NULL)
        return -1;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    r = !PyFrozenSet_CheckExact(names) || PySet_GET_SIZE(names) != nkw;
    for (Py_ssize_t i = 0; !r && i < nkw; i++) {
        int c = PySet_Contains(names, PyTuple_GET_ITEM(kwnames, i));
        r = c < 0 ? -1 : !c;
    }
    Py_DECREF(names);
    return r;
}

/* Fill a new node's slots (graph._init_node and the rest of graph._record); out gets it as
 * grad_fn. 0, or -1 on an error. */
static int fill_node(PyObject *node, PyObject *out, PyObject *inputs, PyObject *const *values,
                     PyObject *kwnames)
{
    for (int k = 0; k < N_COUNT; k++)
        SLOT(node, n_off[k]) = Py_NewRef(Py_None);
    Py_ssize_t n = PyTuple_GET_SIZE(inputs);
    PyObject *edges = PyList_New(n);
    if (edges == NULL)
        return -1;
    Py_SETREF(SLOT(node, n_off[N_NEXT]), edges);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(inputs, i), *e;
        int r = t == Py_None ? 0 : truth(SLOT(t, t_off[T_REQUIRES_GRAD]));
        if (r < 0)
            return -1;
        if (!r)
            e = Py_NewRef(Py_None);
        else if ((e = edge(t)) == NULL)
            return -1;
        PyList_SET_ITEM(edges, i, e);
    }
    PyObject *saved = PyDict_New();
    if (saved == NULL)
        return -1;
    Py_SETREF(SLOT(node, n_off[N_SAVED]), saved);
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *versions = NULL;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i), *s = values[i];
        if (s == result_marker) {
            /* the output, as an alias without a grad_fn (no cycle); its counter is new */
            PyObject *a = new_tensor(SLOT(out, t_off[T_DATA]), Py_False,
                                     SLOT(out, t_off[T_VC]));
            if (a == NULL || PyDict_SetItem(saved, key, a) < 0) {
                Py_XDECREF(a);
                goto fail;
            }
            Py_SETREF(SLOT(node, n_off[N_RESULT_ALIAS]), a);
            continue;
        }
        if (PyDict_SetItem(saved, key, s) < 0)
            goto fail;
        if (!PyObject_TypeCheck(s, tensor_type))
            continue;
        PyObject *counter = SLOT(s, t_off[T_VC]);
        if (counter == NULL) {
            PyErr_SetString(PyExc_AttributeError, "_vc");
            goto fail;
        }
        PyObject *value = PyObject_GetAttr(counter, s_value);
        if (value == NULL)
            goto fail;
        PyObject *pair = PyTuple_Pack(2, s, value);
        Py_DECREF(value);
        if (pair == NULL)
            goto fail;
        if (versions == NULL && (versions = PyList_New(0)) == NULL) {
            Py_DECREF(pair);
            goto fail;
        }
        int r = PyList_Append(versions, pair);
        Py_DECREF(pair);
        if (r < 0)
            goto fail;
    }
    if (versions != NULL)
        Py_SETREF(SLOT(node, n_off[N_VERSIONS]), versions);
    Py_XSETREF(SLOT(out, t_off[T_GRAD_FN]), Py_NewRef(node));
    Py_XSETREF(SLOT(out, t_off[T_REQUIRES_GRAD]), Py_NewRef(Py_True));
    return 0;
fail:
    Py_XDECREF(versions);
    return -1;
}

/* Whether any input requires grad: 1 or 0; 2 when an input is not a Tensor (or None) with
 * every slot set (the Python _record takes those); -1 on an error. */
static int any_requires_grad(PyObject *inputs)
{
    Py_ssize_t n = PyTuple_GET_SIZE(inputs);
    int any = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(inputs, i);
        if (t == Py_None)
            continue;
        if (!PyObject_TypeCheck(t, tensor_type))
            return 2;
        for (int k = 0; k < T_COUNT; k++)
            if (SLOT(t, t_off[k]) == NULL)
                return 2;
        if (!any && (any = truth(SLOT(t, t_off[T_REQUIRES_GRAD]))) < 0)
            return -1;
    }
    return any;
}

/* record(op, data, inputs, **saved): graph._record */
static PyObject *record(PyObject *self, PyObject *const *args, Py_ssize_t nargsf,
                        PyObject *kwnames)
{
    if (py_record == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind_graph first");
        return NULL;
    }
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 3 || !PyTuple_CheckExact(args[2]))
        return PyObject_Vectorcall(py_record, args, nargsf, kwnames);
    PyObject *op = args[0], *inputs = args[2];
    int on = flag(grad_state, s_enabled);
    if (on < 0)
        return NULL;
    if (!on)
        return new_tensor(args[1], Py_False, NULL);
    int r = any_requires_grad(inputs);
    if (r == 0)
        return new_tensor(args[1], Py_False, NULL);
    if (r == 1)
        r = needs_python(op, kwnames);
    else if (r == 2)
        r = 1;
    if (r)
        return r < 0 ? NULL : PyObject_Vectorcall(py_record, args, nargsf, kwnames);
    PyObject *out = new_tensor(args[1], Py_False, NULL);
    if (out == NULL)
        return NULL;
    PyTypeObject *nt = (PyTypeObject *)op;
    PyObject *node = nt->tp_alloc(nt, 0);
    if (node == NULL || fill_node(node, out, inputs, args + nargs, kwnames) < 0) {
        Py_XDECREF(node);
        Py_DECREF(out);
        return NULL;
    }
    Py_DECREF(node);    /* out holds it */
    return out;
}


/* ---- float loops of the kernels library, called without ctypes --------------------------------
 *
 * A ctypes call with its array addresses costs ~2.5 us (the checks that an array suits the
 * kernel, np.empty, one address each, the call): more than a small op's whole loop and a third
 * of a 64000-element one. float_op makes the same checks and the same call on the ndarrays
 * themselves. The kernels are the library's own (src/binary.c, activation.c, reduce.c), bound
 * by address (bind_kernels); which one to call and with how many threads is the caller's
 * choice. */

enum { K_ADD, K_SUB, K_MUL, K_MUL_SCALAR, K_RELU, K_RELU_BACKWARD, K_SUM, K_COUNT };
static const int k_inputs[K_COUNT] = {2, 2, 2, 2, 1, 2, 1};
static void *k_fn[K_COUNT][2];      /* [op][0: float32, 1: float64] */

typedef int64_t (*k_binary_fn)(int64_t, const void *, const void *, void *, int64_t);
typedef int64_t (*k_unary_fn)(int64_t, const void *, void *, int64_t);
typedef void (*k_sum_fn)(int64_t, const void *, void *, int64_t);

static PyObject *k_threads, *k_recording, *s_prog;     /* _kernels.THREADS, _RECORDING */

/* bind_kernels(addresses, threads, recording): the library's ember_<op>_split_<f32|f64>, op by
 * op, in float_op's order (add, sub, mul, mul_scalar, relu, relu_backward, sum); the list whose
 * item 0 is the thread count; the thread-local whose `prog` is not None while a part records */
static PyObject *bind_kernels(PyObject *self, PyObject *args)
{
    PyObject *addresses, *threads, *recording;
    if (!PyArg_ParseTuple(args, "OO!O", &addresses, &PyList_Type, &threads, &recording))
        return NULL;
    if (PyList_GET_SIZE(threads) != 1)
        return PyErr_Format(PyExc_ValueError, "bind_kernels: threads is a list of one count");
    PyObject *seq = PySequence_Fast(addresses, "bind_kernels takes a sequence of addresses");
    if (seq == NULL)
        return NULL;
    if (PySequence_Fast_GET_SIZE(seq) != 2 * K_COUNT) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "bind_kernels takes %d addresses", 2 * K_COUNT);
    }
    void *fn[K_COUNT][2];
    for (int i = 0; i < 2 * K_COUNT; i++) {
        void *a = PyLong_AsVoidPtr(PySequence_Fast_GET_ITEM(seq, i));
        if (a == NULL) {
            Py_DECREF(seq);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "bind_kernels: a null address");
            return NULL;
        }
        fn[i / 2][i % 2] = a;
    }
    Py_DECREF(seq);
    memcpy(k_fn, fn, sizeof fn);
    Py_XSETREF(k_threads, Py_NewRef(threads));
    Py_XSETREF(k_recording, Py_NewRef(recording));
    Py_RETURN_NONE;
}

/* Whether `o` is a plain ndarray of float32 (0) or float64 (1) in native order, aligned and
 * C-contiguous; -1 when not. */
static int float_kind(PyObject *o)
{
    if (!PyArray_CheckExact(o))
        return -1;
    PyArrayObject *a = (PyArrayObject *)o;
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || !PyArray_ISNOTSWAPPED(a))
        return -1;
    int t = PyArray_TYPE(a);
    return t == NPY_FLOAT ? 0 : t == NPY_DOUBLE ? 1 : -1;
}

/* float_op(op, out, *inputs): the kernel `op` (0 add, 1 sub, 2 mul, 3 mul_scalar: the second
 * input a Python float, 4 relu, 5 relu_backward: out = where(inputs[1] <= 0, 0, inputs[0]),
 * 6 sum of all elements) over plain C-contiguous float32 or float64 arrays of one dtype and
 * shape, in at most threads[0] pieces on the pool's threads (ember_split_run: pieces only
 * while they spin). `out` is None (a new array: 0-d for sum) or such an array, which may be an
 * input. Returns out, or None when an input does not suit or a part records (the caller's
 * NumPy then runs). */
static PyObject *float_op(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 3)
        return PyErr_Format(PyExc_TypeError, "float_op takes op, out and inputs");
    long op = PyLong_AsLong(args[0]);
    if (op == -1 && PyErr_Occurred())
        return NULL;
    if (op < 0 || op >= K_COUNT || nargs - 2 != k_inputs[op])
        return PyErr_Format(PyExc_ValueError, "float_op: op %ld with %zd inputs", op, nargs - 2);
    if (k_threads == NULL)
        return PyErr_Format(PyExc_RuntimeError, "float_op: bind_kernels first");
    PyObject *prog = PyObject_GetAttr(k_recording, s_prog);
    if (prog == NULL)
        return NULL;
    Py_DECREF(prog);    /* (only compared) */
    if (prog != Py_None)
        Py_RETURN_NONE;
    int64_t parts = PyLong_AsLongLong(PyList_GET_ITEM(k_threads, 0));
    if (parts == -1 && PyErr_Occurred())
        return NULL;
    PyObject *x = args[2], *y = nargs > 3 ? args[3] : NULL, *out = args[1];
    int w = float_kind(x);
    if (w < 0)
        Py_RETURN_NONE;
    PyArrayObject *a = (PyArrayObject *)x;
    float s32;
    double s64;
    const void *py = NULL;
    if (op == K_MUL_SCALAR) {
        if (!PyFloat_CheckExact(y))
            Py_RETURN_NONE;
        /* cast first, as NumPy casts a Python float to float32 for a float32 product */
        s64 = PyFloat_AS_DOUBLE(y);
        s32 = (float)s64;
        py = w ? (const void *)&s64 : (const void *)&s32;
    } else if (y != NULL) {
        if (float_kind(y) != w || !PyArray_SAMESHAPE(a, (PyArrayObject *)y))
            Py_RETURN_NONE;
        py = PyArray_DATA((PyArrayObject *)y);
    }
    if (out == Py_None) {
        out = op == K_SUM ? PyArray_SimpleNew(0, NULL, PyArray_TYPE(a))
                          : PyArray_SimpleNew(PyArray_NDIM(a), PyArray_DIMS(a), PyArray_TYPE(a));
        if (out == NULL)
            return NULL;
    } else {
        if (op == K_SUM || float_kind(out) != w || !PyArray_SAMESHAPE(a, (PyArrayObject *)out)
            || !PyArray_ISWRITEABLE((PyArrayObject *)out))
            Py_RETURN_NONE;
        Py_INCREF(out);
    }
    int64_t n = (int64_t)PyArray_SIZE(a);
    const void *px = PyArray_DATA(a);
    void *po = PyArray_DATA((PyArrayObject *)out);
    void *fn = k_fn[op][w];
    /* the GIL goes while a long loop runs (one that may wait for the pool's threads among
     * them), as ctypes lets it go; a short one is over before another thread could take it */
    PyThreadState *ts = n >= 16384 ? PyEval_SaveThread() : NULL;
    switch (op) {
    case K_ADD:
    case K_SUB:
    case K_MUL:
    case K_MUL_SCALAR:
    case K_RELU_BACKWARD:
        ((k_binary_fn)fn)(n, px, py, po, parts);
        break;
    case K_RELU:
        ((k_unary_fn)fn)(n, px, po, parts);
        break;
    default:
        ((k_sum_fn)fn)(n, px, po, parts);
    }
    if (ts != NULL)
        PyEval_RestoreThread(ts);
    return out;
}

static PyMethodDef methods[] = {
    {"bind_tensor", bind_tensor, METH_VARARGS, "bind_tensor(Tensor, _VersionCounter, fields)"},
    {"bind_graph", bind_graph, METH_VARARGS,
     "bind_graph(Node, fields, _State, _Anomaly, AccumulateGrad, _RESULT, _SAVED_HOOKS, "
     "_CREATED, _record)"},
    {"wrap", (PyCFunction)(void (*)(void))wrap, METH_FASTCALL | METH_KEYWORDS,
     "wrap($module, /, data, requires_grad=False)\n--\n\n"
     "A Tensor around an ndarray, without copying (_tensor._wrap)."},
    {"alias", alias, METH_O, "alias($module, t, /)\n--\n\n"
     "A plain tensor over t's array sharing its version counter (_tensor._alias)."},
    {"record", (PyCFunction)(void (*)(void))record, METH_FASTCALL | METH_KEYWORDS,
     "record($module, /, op, data, inputs, **saved)\n--\n\n"
     "Record a node (autograd.graph._record)."},
    {"bind_kernels", bind_kernels, METH_VARARGS,
     "bind_kernels($module, addresses, threads, recording, /)\n--\n\n"
     "The kernels float_op calls, by address; the thread count's list; the recording state."},
    {"float_op", (PyCFunction)(void (*)(void))float_op, METH_FASTCALL,
     "float_op($module, op, out, /, *inputs)\n--\n\n"
     "A float loop of the kernels library over plain contiguous arrays, or None."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cgraph",
    "ember's Tensor construction, node recording and float loops, compiled (see cgraph.c).",
    -1, methods};

PyMODINIT_FUNC PyInit__cgraph(void)
{
    import_array();     /* NumPy's C API (float_op); an ImportError when it does not match */
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    s_enabled = PyUnicode_InternFromString("enabled");
    s_shape = PyUnicode_InternFromString("shape");
    s_dtype = PyUnicode_InternFromString("dtype");
    s_value = PyUnicode_InternFromString("value");
    s_saved_names_set = PyUnicode_InternFromString("_saved_names_set");
    s_prog = PyUnicode_InternFromString("prog");
    zero = PyLong_FromLong(0);
    if (!s_enabled || !s_shape || !s_dtype || !s_value || !s_saved_names_set || !s_prog || !zero ||
        PyModule_AddIntConstant(m, "ABI", CGRAPH_ABI) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
